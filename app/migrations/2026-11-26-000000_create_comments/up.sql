-- The article's Comment model, with the limits its varchar(255) implied made explicit.
CREATE TABLE comments (
    id BIGSERIAL PRIMARY KEY,
    title VARCHAR(255) NOT NULL CHECK (title <> ''),
    author VARCHAR(255) NOT NULL CHECK (author <> ''),
    body TEXT NOT NULL CHECK (body <> '' AND char_length(body) <= 10000),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Keyset pagination walks (created_at, id) newest first: one index scan per page, whatever the
-- table's size.
CREATE INDEX comments_created_at_id_idx ON comments (created_at DESC, id DESC);
