//! judge_v1 DB_PATH URL TOKEN COMMAND...
//!
//! Opens an embedded replica of the primary at URL with libSQL's own Rust
//! crate (`Builder::new_remote_replica`, which probes GET URL/info and, when
//! that fails, replicates with sqld's gRPC replication log: "v1"), then runs
//! the commands in order, printing one JSON line for each:
//!
//!   sync                   {"frame_no": N|null, "frames_synced": N}
//!   query SQL              {"rows": [[value, ...], ...]}  (read locally)
//!   execute SQL            {"changes": N}  (a write goes to the primary)
//!   execute-with SQL JSON  the same, with a JSON array of positional params
//!   prepare-execute SQL JSON  the same through a prepared statement (a write
//!                          is described by the primary first)
//!   batch SQL              {"done": true}  (statements; BEGIN/COMMIT allowed)
//!   transactional-batch SQL  the same, the crate wrapping them in a transaction
//!
//! A failing command prints {"error": "..."} and the judge exits with 2.

use libsql::{Builder, Database, Value};
use serde_json::{json, Value as Json};

fn to_json(value: Value) -> Json {
    match value {
        Value::Null => Json::Null,
        Value::Integer(number) => json!(number),
        Value::Real(number) => json!(number),
        Value::Text(text) => json!(text),
        Value::Blob(blob) => json!({ "blob": blob }),
    }
}

fn from_json(value: &Json) -> Value {
    match value {
        Json::Null => Value::Null,
        Json::Bool(flag) => Value::Integer(i64::from(*flag)),
        Json::Number(number) => match number.as_i64() {
            Some(integer) => Value::Integer(integer),
            None => Value::Real(number.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(text) => Value::Text(text.clone()),
        other => Value::Text(other.to_string()),
    }
}

async fn run(
    database: &Database,
    command: &str,
    args: &mut std::slice::Iter<'_, String>,
) -> libsql::Result<Json> {
    let mut next = |what: &str| {
        args.next()
            .cloned()
            .unwrap_or_else(|| panic!("{command} needs {what}"))
    };
    match command {
        "sync" => {
            let replicated = database.sync().await?;
            Ok(
                json!({ "frame_no": replicated.frame_no(), "frames_synced": replicated.frames_synced() }),
            )
        }
        "query" => {
            let sql = next("SQL");
            let connection = database.connect()?;
            let mut rows = connection.query(&sql, ()).await?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().await? {
                let values = (0..row.column_count()).map(|index| row.get_value(index).map(to_json));
                out.push(values.collect::<libsql::Result<Vec<_>>>()?);
            }
            Ok(json!({ "rows": out }))
        }
        "execute" | "execute-with" | "prepare-execute" => {
            let sql = next("SQL");
            let params: Vec<Value> = if command != "execute" {
                let text = next("a JSON array of params");
                let parsed: Vec<Json> =
                    serde_json::from_str(&text).expect("params must be a JSON array");
                parsed.iter().map(from_json).collect()
            } else {
                Vec::new()
            };
            let connection = database.connect()?;
            let changes = if command == "prepare-execute" {
                connection.prepare(&sql).await?.execute(params).await? as u64
            } else {
                connection.execute(&sql, params).await?
            };
            Ok(json!({ "changes": changes }))
        }
        "batch" | "transactional-batch" => {
            let sql = next("SQL");
            let connection = database.connect()?;
            if command == "batch" {
                connection.execute_batch(&sql).await?;
            } else {
                connection.execute_transactional_batch(&sql).await?;
            }
            Ok(json!({ "done": true }))
        }
        other => panic!("unknown command {other:?}"),
    }
}

#[tokio::main]
async fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.len() < 5 {
        eprintln!("usage: judge_v1 DB_PATH URL TOKEN COMMAND...");
        std::process::exit(64);
    }
    let (path, url, token) = (&argv[1], &argv[2], &argv[3]);
    let opened = Builder::new_remote_replica(path, url.clone(), token.clone())
        .connector(hyper::client::HttpConnector::new())
        .build()
        .await;
    let database = match opened {
        Ok(database) => database,
        Err(error) => {
            println!("{}", json!({ "error": error.to_string() }));
            std::process::exit(2);
        }
    };
    let mut args = argv[4..].iter();
    while let Some(command) = args.next() {
        match run(&database, command, &mut args).await {
            Ok(answer) => println!("{answer}"),
            Err(error) => {
                println!("{}", json!({ "error": error.to_string() }));
                std::process::exit(2);
            }
        }
    }
}
