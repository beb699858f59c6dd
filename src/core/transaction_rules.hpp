// When a connection begins, commits and rolls back on its own, as Python
// 3.12's sqlite3 defines it, for any backend: the backend says whether a
// transaction is open; these rules say which statements to run about it.
#pragma once

#include <optional>
#include <string>
#include <vector>

namespace aiolibsql {

enum class TransactionControl {
  // isolation_level decides: an implicit BEGIN before INSERT/UPDATE/DELETE/REPLACE.
  Legacy,
  // The engine's own autocommit; commit() and rollback() do nothing.
  Autocommit,
  // PEP 249: a transaction is always open; commit() and rollback() start the next.
  Manual,
};

// Statements to run in order, stopping at the first that fails.
using TransactionSteps = std::vector<std::string>;

struct TransactionRules {
  TransactionControl control = TransactionControl::Legacy;
  // The BEGIN flavour of implicit transactions; nullopt means none (autocommit).
  std::optional<std::string> isolation_level = std::string("DEFERRED");

  // The BEGIN that legacy control runs before a DML statement outside a transaction.
  std::optional<std::string> begin_before(bool statement_is_dml, bool in_transaction) const;
  TransactionSteps on_open() const;
  TransactionSteps commit(bool in_transaction) const;
  TransactionSteps rollback(bool in_transaction) const;
  // Legacy control commits an open transaction before a script, as sqlite3 does.
  TransactionSteps before_script(bool in_transaction) const;
  // What switching to `next` runs; the switch itself happens even if a step fails.
  TransactionSteps switch_to(TransactionControl next, bool in_transaction) const;
};

}  // namespace aiolibsql
