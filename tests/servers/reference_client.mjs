// libSQL's official JavaScript client against a server: a batch, an
// interactive transaction rolled back and one committed, and a constraint
// error. Prints what it saw as one JSON object for the test to check.
import { createClient } from "@libsql/client";

const [url, authToken] = process.argv.slice(2);
const client = createClient({ url, authToken, intMode: "bigint" });
const seen = {};

await client.batch(
  [
    "CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT UNIQUE)",
    { sql: "INSERT INTO items (name) VALUES (?)", args: ["first"] },
    { sql: "INSERT INTO items (name) VALUES (:name)", args: { name: "second" } },
  ],
  "write",
);
seen.batch = (await client.execute("SELECT id, name FROM items ORDER BY id")).rows.map((row) => [
  Number(row.id),
  row.name,
]);

const rolledBack = await client.transaction("write");
await rolledBack.execute({ sql: "INSERT INTO items (name) VALUES (?)", args: ["never"] });
seen.insideTransaction = Number((await rolledBack.execute("SELECT count(*) AS n FROM items")).rows[0].n);
await rolledBack.rollback();

const committed = await client.transaction("write");
await committed.execute({ sql: "INSERT INTO items (name) VALUES (?)", args: ["third"] });
await committed.commit();
seen.afterTransactions = (await client.execute("SELECT name FROM items ORDER BY id")).rows.map((row) => row.name);

seen.big = String((await client.execute({ sql: "SELECT ?", args: [2n ** 62n + 3n] })).rows[0][0]);

try {
  await client.execute({ sql: "INSERT INTO items (name) VALUES (?)", args: ["first"] });
  seen.constraint = "no error";
} catch (error) {
  seen.constraint = error.code;
}
client.close();
console.log(JSON.stringify(seen));
