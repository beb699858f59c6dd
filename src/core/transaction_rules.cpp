#include "transaction_rules.hpp"

namespace aiolibsql {

std::optional<std::string> TransactionRules::begin_before(bool statement_is_dml, bool in_transaction) const {
  if (control != TransactionControl::Legacy || !isolation_level || !statement_is_dml || in_transaction) {
    return std::nullopt;
  }
  return "BEGIN " + *isolation_level;
}

TransactionSteps TransactionRules::on_open() const {
  if (control == TransactionControl::Manual) return {"BEGIN"};
  return {};
}

TransactionSteps TransactionRules::commit(bool in_transaction) const {
  if (control == TransactionControl::Autocommit) return {};
  TransactionSteps steps;
  if (in_transaction) steps.emplace_back("COMMIT");
  if (control == TransactionControl::Manual) steps.emplace_back("BEGIN");
  return steps;
}

TransactionSteps TransactionRules::rollback(bool in_transaction) const {
  if (control == TransactionControl::Autocommit) return {};
  TransactionSteps steps;
  if (in_transaction) steps.emplace_back("ROLLBACK");
  if (control == TransactionControl::Manual) steps.emplace_back("BEGIN");
  return steps;
}

TransactionSteps TransactionRules::before_script(bool in_transaction) const {
  if (control == TransactionControl::Legacy && in_transaction) return {"COMMIT"};
  return {};
}

TransactionSteps TransactionRules::switch_to(TransactionControl next, bool in_transaction) const {
  if (next == TransactionControl::Autocommit && in_transaction) return {"COMMIT"};
  if (next == TransactionControl::Manual && !in_transaction) return {"BEGIN"};
  return {};
}

}  // namespace aiolibsql
