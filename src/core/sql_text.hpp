// What a statement does, read from its text alone: for backends that cannot
// ask an engine before running it (remote), and for the local engine's own
// classification of what it prepared.
#pragma once

#include <string_view>

namespace aiolibsql {

// The text after leading whitespace and SQL comments.
std::string_view skip_blank(std::string_view sql);

// Whether `sql` starts with `keyword` (upper case) as a whole word, in any case.
bool starts_with_keyword(std::string_view sql, std::string_view keyword);

// The kinds that decide transaction handling, by the statement's first keyword.
struct StatementKind {
  // INSERT, UPDATE, DELETE or REPLACE: legacy transaction control begins a
  // transaction before it.
  bool dml = false;
  // BEGIN, COMMIT, END, ROLLBACK, SAVEPOINT or RELEASE.
  bool transaction_control = false;
  // WITH: DML or a read, which only the engine can tell.
  bool common_table_expression = false;
  // SELECT (or VALUES): a read, unless a function it calls writes.
  bool select = false;
};
StatementKind statement_kind(std::string_view sql);

// A pragma assignment, ATTACH or DETACH: it changes the settings of the
// connection that runs it rather than the database.
bool changes_connection_settings(std::string_view sql);

// SELECT, WITH, EXPLAIN or a PRAGMA query: judged from the text, a statement
// that only reads (a WITH that writes is not told apart).
bool only_reads(std::string_view sql);

// Whether `sql` has the word RETURNING outside string literals, quoted
// identifiers and comments: a DML statement that returns rows.
bool mentions_returning(std::string_view sql);

}  // namespace aiolibsql
