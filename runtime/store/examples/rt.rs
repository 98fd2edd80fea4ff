//! scratch
use sqlx::Connection;
use std::time::Instant;
#[tokio::main]
async fn main() {
    let dir = std::env::temp_dir().join(format!("weft-rt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let opts = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(dir.join("x.db"))
        .create_if_missing(true)
        .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
        .synchronous(sqlx::sqlite::SqliteSynchronous::Normal);
    let mut conn = sqlx::SqliteConnection::connect_with(&opts).await.unwrap();
    sqlx::query("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)")
        .execute(&mut conn)
        .await
        .unwrap();
    let n = 3000;
    let t = Instant::now();
    for _ in 0..n {
        sqlx::query("SELECT 1").execute(&mut conn).await.unwrap();
    }
    println!(
        "select 1: {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for _ in 0..n {
        let tx = conn.begin().await.unwrap();
        tx.commit().await.unwrap();
    }
    println!(
        "begin+commit empty: {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for i in 0..n {
        let mut tx = conn.begin().await.unwrap();
        sqlx::query("INSERT INTO t (v) VALUES (?)")
            .bind(i.to_string())
            .execute(&mut *tx)
            .await
            .unwrap();
        tx.commit().await.unwrap();
    }
    println!(
        "begin+insert+commit: {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let t = Instant::now();
    for i in 0..n {
        sqlx::query("BEGIN; INSERT INTO t (v) VALUES (?); COMMIT")
            .bind(i.to_string())
            .execute(&mut conn)
            .await
            .unwrap();
    }
    println!(
        "one multi-statement: {:.1} us",
        t.elapsed().as_secs_f64() * 1e6 / n as f64
    );
    let _ = std::fs::remove_dir_all(&dir);
}
