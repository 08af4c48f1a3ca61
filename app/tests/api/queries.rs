//! The page query as Postgres sees it: prepared once per connection, then reused.

use app::comments::{self, PageRequest};
use diesel::{sql_types::BigInt, Connection, PgConnection, QueryableByName, RunQueryDsl};

use crate::helpers::spawn_app;

#[derive(QueryableByName)]
struct Prepared {
    #[diesel(sql_type = BigInt)]
    statements: i64,
    #[diesel(sql_type = BigInt)]
    executions: i64,
}

#[tokio::test]
async fn each_page_query_is_prepared_once_and_then_served_from_the_cache() {
    let app = spawn_app().await;
    assert_eq!(app.post_comment("one", "Ann", "x").await.status(), 303);
    let mut conn = PgConnection::establish(&app.database_url).unwrap();
    let cursor = comments::page(&mut conn, PageRequest::Newest)
        .unwrap()
        .comments[0]
        .cursor();
    for _ in 0..5 {
        for request in [
            PageRequest::Newest,
            PageRequest::Older(cursor),
            PageRequest::Newer(cursor),
        ] {
            comments::page(&mut conn, request).unwrap();
        }
    }
    // Postgres counts executions of a prepared statement (generic_plans + custom_plans, 14+).
    let prepared = diesel::sql_query(
        "SELECT count(*) AS statements, \
                coalesce(sum(generic_plans + custom_plans), 0)::bigint AS executions \
         FROM pg_prepared_statements WHERE statement LIKE '%FROM \"comments\"%'",
    )
    .get_result::<Prepared>(&mut conn)
    .unwrap();
    assert_eq!(prepared.statements, 3, "one statement per kind of page");
    assert_eq!(prepared.executions, 16, "every call reused its statement");
}
