#include "transaction_rules.hpp"

#include <gtest/gtest.h>

#include "sql_text.hpp"

namespace aiolibsql {
namespace {

const TransactionRules kLegacy{TransactionControl::Legacy, "IMMEDIATE"};
const TransactionRules kLegacyWithoutIsolation{TransactionControl::Legacy, std::nullopt};
const TransactionRules kAutocommit{TransactionControl::Autocommit, "DEFERRED"};
const TransactionRules kManual{TransactionControl::Manual, "DEFERRED"};

TEST(TransactionRules, LegacyControlBeginsBeforeDmlOutsideATransactionOnly) {
  EXPECT_EQ(kLegacy.begin_before(true, false), "BEGIN IMMEDIATE");
  EXPECT_EQ(kLegacy.begin_before(true, true), std::nullopt);
  EXPECT_EQ(kLegacy.begin_before(false, false), std::nullopt);
  EXPECT_EQ(kLegacyWithoutIsolation.begin_before(true, false), std::nullopt);
  EXPECT_EQ(kAutocommit.begin_before(true, false), std::nullopt);
  EXPECT_EQ(kManual.begin_before(true, false), std::nullopt);
}

TEST(TransactionRules, ManualControlKeepsATransactionOpenFromOpenThroughEveryCommitAndRollback) {
  EXPECT_EQ(kManual.on_open(), (TransactionSteps{"BEGIN"}));
  EXPECT_EQ(kManual.commit(true), (TransactionSteps{"COMMIT", "BEGIN"}));
  EXPECT_EQ(kManual.rollback(true), (TransactionSteps{"ROLLBACK", "BEGIN"}));
  EXPECT_EQ(kManual.commit(false), (TransactionSteps{"BEGIN"}));
}

TEST(TransactionRules, AutocommitControlNeverRunsAnythingOfItsOwn) {
  EXPECT_TRUE(kAutocommit.on_open().empty());
  EXPECT_TRUE(kAutocommit.commit(true).empty());
  EXPECT_TRUE(kAutocommit.rollback(true).empty());
  EXPECT_TRUE(kAutocommit.before_script(true).empty());
}

TEST(TransactionRules, LegacyControlCommitsOnlyAnOpenTransactionAndBeforeAScript) {
  EXPECT_EQ(kLegacy.commit(true), (TransactionSteps{"COMMIT"}));
  EXPECT_TRUE(kLegacy.commit(false).empty());
  EXPECT_EQ(kLegacy.rollback(true), (TransactionSteps{"ROLLBACK"}));
  EXPECT_EQ(kLegacy.before_script(true), (TransactionSteps{"COMMIT"}));
  EXPECT_TRUE(kLegacy.before_script(false).empty());
}

TEST(TransactionRules, SwitchingControlCommitsIntoAutocommitAndBeginsIntoManual) {
  EXPECT_EQ(kLegacy.switch_to(TransactionControl::Autocommit, true), (TransactionSteps{"COMMIT"}));
  EXPECT_EQ(kLegacy.switch_to(TransactionControl::Manual, false), (TransactionSteps{"BEGIN"}));
  EXPECT_TRUE(kLegacy.switch_to(TransactionControl::Manual, true).empty());
  EXPECT_TRUE(kManual.switch_to(TransactionControl::Legacy, true).empty());
}

TEST(SqlText, StatementKindReadsTheFirstKeywordPastCommentsAndBlanks) {
  EXPECT_TRUE(statement_kind("  -- note\n /* x */ insert into t values (1)").dml);
  EXPECT_TRUE(statement_kind("REPLACE INTO t VALUES (1)").dml);
  EXPECT_FALSE(statement_kind("INSERTED").dml);
  EXPECT_FALSE(statement_kind("SELECT 'INSERT'").dml);
  EXPECT_TRUE(statement_kind("end transaction").transaction_control);
  EXPECT_TRUE(statement_kind("SAVEPOINT a").transaction_control);
  EXPECT_TRUE(statement_kind("WITH c AS (SELECT 1) SELECT * FROM c").common_table_expression);
  EXPECT_FALSE(statement_kind("").dml);
}

TEST(SqlText, ReturningIsFoundAsAWordOutsideLiteralsQuotedNamesAndComments) {
  EXPECT_TRUE(mentions_returning("INSERT INTO t VALUES (1) RETURNING id"));
  EXPECT_TRUE(mentions_returning("delete from t returning *"));
  EXPECT_TRUE(mentions_returning("UPDATE t SET v = 'it''s' RETURNING\nv"));
  EXPECT_FALSE(mentions_returning("INSERT INTO t VALUES ('returning')"));
  EXPECT_FALSE(mentions_returning("INSERT INTO \"returning\" VALUES (1)"));
  EXPECT_FALSE(mentions_returning("INSERT INTO [returning] (`returning`) VALUES (1) -- returning"));
  EXPECT_FALSE(mentions_returning("INSERT INTO t VALUES (1) /* returning */"));
  EXPECT_FALSE(mentions_returning("INSERT INTO returnings VALUES (1)"));
  EXPECT_FALSE(mentions_returning("INSERT INTO t (x_returning) VALUES (1)"));
  EXPECT_FALSE(mentions_returning("INSERT INTO t VALUES ('unterminated returning"));
}

}  // namespace
}  // namespace aiolibsql
