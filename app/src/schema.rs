//! Diesel's view of the tables the migrations create.

diesel::table! {
    comments (id) {
        id -> Int8,
        #[max_length = 255]
        title -> Varchar,
        #[max_length = 255]
        author -> Varchar,
        body -> Text,
        created_at -> Timestamptz,
    }
}
