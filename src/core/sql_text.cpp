#include "sql_text.hpp"

#include <cctype>

namespace aiolibsql {

std::string_view skip_blank(std::string_view sql) {
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (sql.substr(i, 2) == "--") {
      const auto end = sql.find('\n', i);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(i, 2) == "/*") {
      const auto end = sql.find("*/", i + 2);
      i = end == std::string_view::npos ? sql.size() : end + 2;
    } else {
      break;
    }
  }
  return sql.substr(i);
}

bool starts_with_keyword(std::string_view sql, std::string_view keyword) {
  if (sql.size() < keyword.size()) return false;
  for (std::size_t i = 0; i < keyword.size(); ++i) {
    if (std::toupper(static_cast<unsigned char>(sql[i])) != keyword[i]) return false;
  }
  return sql.size() == keyword.size() ||
         !(std::isalnum(static_cast<unsigned char>(sql[keyword.size()])) || sql[keyword.size()] == '_');
}

StatementKind statement_kind(std::string_view sql) {
  const auto text = skip_blank(sql);
  StatementKind kind;
  for (std::string_view keyword : {"INSERT", "UPDATE", "DELETE", "REPLACE"}) {
    kind.dml = kind.dml || starts_with_keyword(text, keyword);
  }
  for (std::string_view keyword : {"BEGIN", "COMMIT", "END", "ROLLBACK", "SAVEPOINT", "RELEASE"}) {
    kind.transaction_control = kind.transaction_control || starts_with_keyword(text, keyword);
  }
  kind.common_table_expression = starts_with_keyword(text, "WITH");
  kind.select = starts_with_keyword(text, "SELECT") || starts_with_keyword(text, "VALUES");
  return kind;
}

bool mentions_returning(std::string_view sql) {
  constexpr std::string_view kReturning = "RETURNING";
  std::size_t i = 0;
  while (i < sql.size()) {
    const char c = sql[i];
    const auto closing = [&]() -> char {
      switch (c) {
        case '\'':
        case '"':
        case '`':
          return c;
        case '[':
          return ']';
        default:
          return '\0';
      }
    }();
    if (closing != '\0') {
      // SQL doubles a quote to escape it: the scan resumes inside the next run.
      const auto end = sql.find(closing, i + 1);
      i = end == std::string_view::npos ? sql.size() : end + 1;
    } else if (sql.substr(i, 2) == "--" || sql.substr(i, 2) == "/*") {
      const auto rest = skip_blank(sql.substr(i));
      i = sql.size() - rest.size();
    } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const bool word_start = i == 0 || !(std::isalnum(static_cast<unsigned char>(sql[i - 1])) || sql[i - 1] == '_');
      if (word_start && starts_with_keyword(sql.substr(i), kReturning)) return true;
      while (i < sql.size() && (std::isalnum(static_cast<unsigned char>(sql[i])) || sql[i] == '_')) ++i;
    } else {
      ++i;
    }
  }
  return false;
}

bool changes_connection_settings(std::string_view sql) {
  if (starts_with_keyword(sql, "ATTACH") || starts_with_keyword(sql, "DETACH")) return true;
  return starts_with_keyword(sql, "PRAGMA") && sql.find('=') != std::string_view::npos;
}

bool only_reads(std::string_view sql) {
  const StatementKind kind = statement_kind(sql);
  return kind.select || kind.common_table_expression || starts_with_keyword(sql, "EXPLAIN") ||
         (starts_with_keyword(sql, "PRAGMA") && !changes_connection_settings(sql));
}

}  // namespace aiolibsql
