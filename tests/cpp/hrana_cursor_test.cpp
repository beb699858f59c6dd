#include <gtest/gtest.h>

#include <string>

#include "decode.hpp"

namespace aiolibsql::hrana {
namespace {

constexpr std::string_view kBody =
    "{\"baton\":\"b1\",\"base_url\":null}\n"
    "{\"type\":\"step_begin\",\"step\":0,\"cols\":[{\"name\":\"x\",\"decltype\":\"INTEGER\"},{\"name\":\"t\"}]}\n"
    "{\"type\":\"row\",\"row\":[{\"type\":\"integer\",\"value\":\"4611686018427387907\"},{\"type\":\"text\","
    "\"value\":\"a\"}]}\n"
    "{\"type\":\"row\",\"row\":[{\"type\":\"null\"},{\"type\":\"blob\",\"base64\":\"AP8=\"}]}\n"
    "{\"type\":\"step_end\",\"affected_row_count\":0,\"last_insert_rowid\":null}\n"
    "{\"type\":\"step_error\",\"step\":2,\"error\":{\"message\":\"UNIQUE constraint failed: t.x\","
    "\"code\":\"SQLITE_CONSTRAINT_UNIQUE\"}}\n";

void expect_the_body_decoded(CursorDecoder& decoder) {
  EXPECT_TRUE(decoder.has_header());
  EXPECT_EQ(decoder.baton(), "b1");
  EXPECT_FALSE(decoder.base_url());
  const auto& steps = decoder.steps();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].index, 0u);
  ASSERT_TRUE(steps[0].columns);
  EXPECT_EQ(steps[0].columns->names, (std::vector<std::string>{"x", "t"}));
  ASSERT_EQ(steps[0].rows.row_count(), 2u);
  EXPECT_EQ(steps[0].rows.cell(0, 0).integer, (1LL << 62) + 3);
  EXPECT_EQ(steps[0].rows.bytes(steps[0].rows.cell(1, 1)), std::string("\x00\xff", 2));
  EXPECT_TRUE(steps[0].ended);
  EXPECT_FALSE(steps[0].error);
  // Step 1 was skipped by its condition; step 2 failed before it began.
  EXPECT_EQ(steps[1].index, 2u);
  ASSERT_TRUE(steps[1].error);
  EXPECT_EQ(steps[1].error->kind, ErrorKind::Integrity);
  EXPECT_FALSE(decoder.batch_error());
}

TEST(HranaCursor, ABodyDecodesTheSameWholeOrOneByteAtATime) {
  CursorDecoder whole;
  whole.feed(kBody);
  whole.finish();
  expect_the_body_decoded(whole);

  CursorDecoder bytewise;
  for (const char c : kBody) bytewise.feed(std::string_view(&c, 1));
  bytewise.finish();
  expect_the_body_decoded(bytewise);
}

TEST(HranaCursor, RowsTakenAsTheyComeLeaveTheStepHoldingNone) {
  CursorDecoder decoder;
  decoder.feed(
      "{\"baton\":null,\"base_url\":null}\n{\"type\":\"step_begin\",\"step\":0,\"cols\":[{\"name\":\"x\"}]}\n");
  std::size_t taken = 0;
  for (int i = 0; i < 1000; ++i) {
    decoder.feed("{\"type\":\"row\",\"row\":[{\"type\":\"integer\",\"value\":\"" + std::to_string(i) + "\"}]}\n");
    if (i % 100 == 99) {
      const RowChunk rows = decoder.take_rows();
      EXPECT_EQ(rows.row_count(), 100u);
      EXPECT_EQ(rows.cell(99, 0).integer, i);
      taken += rows.row_count();
    }
  }
  EXPECT_EQ(decoder.steps().back().rows.row_count(), 0u);
  decoder.feed("{\"type\":\"step_end\",\"affected_row_count\":0,\"last_insert_rowid\":null}");
  decoder.finish();
  EXPECT_EQ(taken, 1000u);
}

TEST(HranaCursor, AnErrorEntryFailsTheBatchAndNothingMayFollowIt) {
  CursorDecoder decoder;
  decoder.feed("{\"baton\":null,\"base_url\":null}\n{\"type\":\"error\",\"error\":{\"message\":\"boom\"}}\n");
  decoder.finish();
  ASSERT_TRUE(decoder.batch_error());
  EXPECT_EQ(decoder.batch_error()->message, "boom");
  CursorDecoder followed;
  followed.feed("{\"baton\":null,\"base_url\":null}\n{\"type\":\"error\",\"error\":{\"message\":\"boom\"}}\n");
  EXPECT_THROW(followed.feed("{\"type\":\"step_begin\",\"step\":0,\"cols\":[]}\n"), DbError);
}

void expect_not_a_cursor(std::string_view body) {
  CursorDecoder decoder;
  try {
    decoder.feed(body);
    decoder.finish();
    FAIL() << "accepted: " << body;
  } catch (const DbError& error) {
    EXPECT_EQ(error.error().kind, ErrorKind::Operational) << body;
  }
}

TEST(HranaCursor, AnAnswerThatIsNotAValidCursorIsOneOperationalError) {
  const std::string header = "{\"baton\":null,\"base_url\":null}\n";
  const std::string begin = "{\"type\":\"step_begin\",\"step\":0,\"cols\":[{\"name\":\"x\"}]}\n";
  const std::string end = "{\"type\":\"step_end\",\"affected_row_count\":0,\"last_insert_rowid\":null}\n";
  expect_not_a_cursor("");
  expect_not_a_cursor("<html>");
  expect_not_a_cursor(header + "{\"type\":\"row\",\"row\":[]}\n");
  expect_not_a_cursor(header + begin + begin);
  expect_not_a_cursor(header + begin + "{\"type\":\"row\",\"row\":[{\"type\":\"null\"},{\"type\":\"null\"}]}\n");
  expect_not_a_cursor(header + begin);                                                      // ended inside a step
  expect_not_a_cursor(header + begin + "{\"type\":\"row\",\"row\":[{\"type\":\"null\"}]");  // cut mid-line
  expect_not_a_cursor(header + end);
  expect_not_a_cursor(header + begin + end + begin);  // step 0 twice
  expect_not_a_cursor(header + begin + "{\"type\":\"step_error\",\"step\":3,\"error\":{\"message\":\"x\"}}\n");
  expect_not_a_cursor(header + "{\"type\":\"surprise\"}\n");
}

}  // namespace
}  // namespace aiolibsql::hrana
