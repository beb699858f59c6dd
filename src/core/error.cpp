#include "error.hpp"

#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <utility>

namespace aiolibsql {

namespace {

// Every result code sqlite3.h defines, primary and extended.
constexpr std::pair<int, const char*> kResultCodeNames[] = {
    {0, "SQLITE_OK"},
    {1, "SQLITE_ERROR"},
    {2, "SQLITE_INTERNAL"},
    {3, "SQLITE_PERM"},
    {4, "SQLITE_ABORT"},
    {5, "SQLITE_BUSY"},
    {6, "SQLITE_LOCKED"},
    {7, "SQLITE_NOMEM"},
    {8, "SQLITE_READONLY"},
    {9, "SQLITE_INTERRUPT"},
    {10, "SQLITE_IOERR"},
    {11, "SQLITE_CORRUPT"},
    {12, "SQLITE_NOTFOUND"},
    {13, "SQLITE_FULL"},
    {14, "SQLITE_CANTOPEN"},
    {15, "SQLITE_PROTOCOL"},
    {16, "SQLITE_EMPTY"},
    {17, "SQLITE_SCHEMA"},
    {18, "SQLITE_TOOBIG"},
    {19, "SQLITE_CONSTRAINT"},
    {20, "SQLITE_MISMATCH"},
    {21, "SQLITE_MISUSE"},
    {22, "SQLITE_NOLFS"},
    {23, "SQLITE_AUTH"},
    {24, "SQLITE_FORMAT"},
    {25, "SQLITE_RANGE"},
    {26, "SQLITE_NOTADB"},
    {27, "SQLITE_NOTICE"},
    {28, "SQLITE_WARNING"},
    {100, "SQLITE_ROW"},
    {101, "SQLITE_DONE"},
    {257, "SQLITE_ERROR_MISSING_COLLSEQ"},
    {513, "SQLITE_ERROR_RETRY"},
    {769, "SQLITE_ERROR_SNAPSHOT"},
    {266, "SQLITE_IOERR_READ"},
    {522, "SQLITE_IOERR_SHORT_READ"},
    {778, "SQLITE_IOERR_WRITE"},
    {1034, "SQLITE_IOERR_FSYNC"},
    {1290, "SQLITE_IOERR_DIR_FSYNC"},
    {1546, "SQLITE_IOERR_TRUNCATE"},
    {1802, "SQLITE_IOERR_FSTAT"},
    {2058, "SQLITE_IOERR_UNLOCK"},
    {2314, "SQLITE_IOERR_RDLOCK"},
    {2570, "SQLITE_IOERR_DELETE"},
    {2826, "SQLITE_IOERR_BLOCKED"},
    {3082, "SQLITE_IOERR_NOMEM"},
    {3338, "SQLITE_IOERR_ACCESS"},
    {3594, "SQLITE_IOERR_CHECKRESERVEDLOCK"},
    {3850, "SQLITE_IOERR_LOCK"},
    {4106, "SQLITE_IOERR_CLOSE"},
    {4362, "SQLITE_IOERR_DIR_CLOSE"},
    {4618, "SQLITE_IOERR_SHMOPEN"},
    {4874, "SQLITE_IOERR_SHMSIZE"},
    {5130, "SQLITE_IOERR_SHMLOCK"},
    {5386, "SQLITE_IOERR_SHMMAP"},
    {5642, "SQLITE_IOERR_SEEK"},
    {5898, "SQLITE_IOERR_DELETE_NOENT"},
    {6154, "SQLITE_IOERR_MMAP"},
    {6410, "SQLITE_IOERR_GETTEMPPATH"},
    {6666, "SQLITE_IOERR_CONVPATH"},
    {6922, "SQLITE_IOERR_VNODE"},
    {7178, "SQLITE_IOERR_AUTH"},
    {7434, "SQLITE_IOERR_BEGIN_ATOMIC"},
    {7690, "SQLITE_IOERR_COMMIT_ATOMIC"},
    {7946, "SQLITE_IOERR_ROLLBACK_ATOMIC"},
    {8202, "SQLITE_IOERR_DATA"},
    {8458, "SQLITE_IOERR_CORRUPTFS"},
    {8714, "SQLITE_IOERR_IN_PAGE"},
    {262, "SQLITE_LOCKED_SHAREDCACHE"},
    {518, "SQLITE_LOCKED_VTAB"},
    {261, "SQLITE_BUSY_RECOVERY"},
    {517, "SQLITE_BUSY_SNAPSHOT"},
    {773, "SQLITE_BUSY_TIMEOUT"},
    {270, "SQLITE_CANTOPEN_NOTEMPDIR"},
    {526, "SQLITE_CANTOPEN_ISDIR"},
    {782, "SQLITE_CANTOPEN_FULLPATH"},
    {1038, "SQLITE_CANTOPEN_CONVPATH"},
    {1294, "SQLITE_CANTOPEN_DIRTYWAL"},
    {1550, "SQLITE_CANTOPEN_SYMLINK"},
    {267, "SQLITE_CORRUPT_VTAB"},
    {523, "SQLITE_CORRUPT_SEQUENCE"},
    {779, "SQLITE_CORRUPT_INDEX"},
    {264, "SQLITE_READONLY_RECOVERY"},
    {520, "SQLITE_READONLY_CANTLOCK"},
    {776, "SQLITE_READONLY_ROLLBACK"},
    {1032, "SQLITE_READONLY_DBMOVED"},
    {1288, "SQLITE_READONLY_CANTINIT"},
    {1544, "SQLITE_READONLY_DIRECTORY"},
    {516, "SQLITE_ABORT_ROLLBACK"},
    {275, "SQLITE_CONSTRAINT_CHECK"},
    {531, "SQLITE_CONSTRAINT_COMMITHOOK"},
    {787, "SQLITE_CONSTRAINT_FOREIGNKEY"},
    {1043, "SQLITE_CONSTRAINT_FUNCTION"},
    {1299, "SQLITE_CONSTRAINT_NOTNULL"},
    {1555, "SQLITE_CONSTRAINT_PRIMARYKEY"},
    {1811, "SQLITE_CONSTRAINT_TRIGGER"},
    {2067, "SQLITE_CONSTRAINT_UNIQUE"},
    {2323, "SQLITE_CONSTRAINT_VTAB"},
    {2579, "SQLITE_CONSTRAINT_ROWID"},
    {2835, "SQLITE_CONSTRAINT_PINNED"},
    {3091, "SQLITE_CONSTRAINT_DATATYPE"},
    {283, "SQLITE_NOTICE_RECOVER_WAL"},
    {539, "SQLITE_NOTICE_RECOVER_ROLLBACK"},
    {795, "SQLITE_NOTICE_RBU"},
    {284, "SQLITE_WARNING_AUTOINDEX"},
    {279, "SQLITE_AUTH_USER"},
    {256, "SQLITE_OK_LOAD_PERMANENTLY"},
    {512, "SQLITE_OK_SYMLINK"},
};

}  // namespace

ErrorKind error_kind_for(int sqlite_code) noexcept {
  switch (sqlite_code & 0xff) {
    case SQLITE_INTERNAL:
    case SQLITE_NOTFOUND:
      return ErrorKind::Internal;
    case SQLITE_NOMEM:
      return ErrorKind::Memory;
    case SQLITE_ERROR:
    case SQLITE_PERM:
    case SQLITE_ABORT:
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_READONLY:
    case SQLITE_INTERRUPT:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
    case SQLITE_EMPTY:
    case SQLITE_SCHEMA:
      return ErrorKind::Operational;
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
      return ErrorKind::Database;
    case SQLITE_TOOBIG:
      return ErrorKind::Data;
    case SQLITE_CONSTRAINT:
    case SQLITE_MISMATCH:
      return ErrorKind::Integrity;
    case SQLITE_MISUSE:
    case SQLITE_RANGE:
      return ErrorKind::Interface;
    default:
      return ErrorKind::Database;
  }
}

const char* result_code_name(int sqlite_code) noexcept {
  const auto* end = std::end(kResultCodeNames);
  const auto* it = std::find_if(std::begin(kResultCodeNames), end,
                                [sqlite_code](const auto& entry) { return entry.first == sqlite_code; });
  return it == end ? "SQLITE_UNKNOWN" : it->second;
}

int result_code_from_name(std::string_view name) noexcept {
  const auto* end = std::end(kResultCodeNames);
  const auto* it =
      std::find_if(std::begin(kResultCodeNames), end, [name](const auto& entry) { return entry.second == name; });
  return it == end ? -1 : it->first;
}

Error engine_error(::sqlite3* db, int code) {
  const int extended = db != nullptr ? sqlite3_extended_errcode(db) : code;
  // The connection's code can be stale when the failing call reported a
  // different primary code (e.g. misuse); prefer the call's own code then.
  const int effective = (extended & 0xff) == (code & 0xff) ? extended : code;
  std::string message = db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(code);
  return Error{error_kind_for(effective), effective, std::move(message)};
}

}  // namespace aiolibsql
