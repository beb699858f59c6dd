#include "pool/group_commit.hpp"

#include <algorithm>
#include <variant>
#include <vector>

#include "pool/lock_deadline.hpp"
#include "statement.hpp"

namespace aiolibsql {

void run_sql(Connection& connection, std::string_view sql) {
  Params none;
  connection.execute(sql, none, kWholeResult);
}

void roll_back_quietly(Connection& connection) noexcept {
  try {
    if (connection.in_transaction()) run_sql(connection, "ROLLBACK");
  } catch (const DbError&) {
  }
}

void commit_as_group(Connection& connection, std::span<const std::shared_ptr<Operation>> group) {
  if (group.size() == 1) {
    group.front()->run();
    return;
  }
  const auto earliest = std::min_element(group.begin(), group.end(), [](const auto& left, const auto& right) {
    return left->lock_deadline() < right->lock_deadline();
  });
  try {
    const LockDeadline bounded(connection, (*earliest)->lock_deadline());
    run_sql(connection, "BEGIN IMMEDIATE");
  } catch (const DbError& failure) {
    // Every member waited for this lock together, as long as its timeout
    // allows: running them one by one would make each wait that long again.
    for (const auto& operation : group) operation->finish(failure.error());
    return;
  }
  try {
    for (std::size_t i = 0; i < group.size(); ++i) {
      const auto& operation = group[i];
      run_sql(connection, "SAVEPOINT aiolibsql_group_member");
      operation->run();
      if (!std::holds_alternative<Error>(operation->outcome())) {
        run_sql(connection, "RELEASE aiolibsql_group_member");
        continue;
      }
      if (!connection.in_transaction()) {
        // Its failure (OR ROLLBACK, RAISE(ROLLBACK), a full disk) rolled back
        // the whole group: the others are innocent and run again without it.
        std::vector<std::shared_ptr<Operation>> innocent(group.begin(), group.begin() + static_cast<std::ptrdiff_t>(i));
        innocent.insert(innocent.end(), group.begin() + static_cast<std::ptrdiff_t>(i) + 1, group.end());
        commit_as_group(connection, innocent);
        return;
      }
      // A failed statement fails only its own caller: undo just its part.
      run_sql(connection, "ROLLBACK TO aiolibsql_group_member");
      run_sql(connection, "RELEASE aiolibsql_group_member");
    }
    run_sql(connection, "COMMIT");
  } catch (const DbError&) {
    // The group's own bookkeeping or commit failed and nothing of it was
    // committed; which member caused it is unknown, so each one that had
    // not failed by itself runs alone and gets its own verdict.
    roll_back_quietly(connection);
    for (const auto& operation : group) {
      if (!std::holds_alternative<Error>(operation->outcome())) operation->run();
    }
  }
}

}  // namespace aiolibsql
