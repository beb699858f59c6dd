// The Python-facing handles of a Pool, its transactions and its snapshots.
// Like NativeConnection, every operation takes a CompletionPort or None.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <string>
#include <vector>

#include "native_connection.hpp"
#include "pool/pool.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

class NativePool {
 public:
  NativePool(nb::bytes database, bool uri, std::size_t size, double timeout, std::vector<std::string> setup_statements,
             std::size_t largest_group, double group_gather_seconds, std::size_t cached_statements, bool inline_reads,
             nb::handle encryption_key, std::string cipher);
  ~NativePool();

  nb::object open(nb::handle port);
  // Runs a short read inline on an idle reader and returns its rows in a
  // finished future; anything else is queued and its pending future returned.
  nb::object execute(nb::handle port, nb::handle sql, nb::handle parameters);
  nb::object executemany(nb::handle port, nb::handle sql, nb::handle batch);
  nb::object executebatch(nb::handle port, nb::handle statements);
  // Whether pool.execute would run `sql` on the writer (behind its gate).
  bool goes_to_writer(nb::handle sql);
  nb::object close(nb::handle port);
  nb::list stats() const;
  std::size_t size() const noexcept { return core_->size(); }
  std::size_t reader_count() const noexcept { return core_->reader_count(); }
  bool closed() const { return core_->is_closed(); }

  const std::shared_ptr<Pool>& core() const noexcept { return core_; }

 private:
  std::shared_ptr<Pool> core_;
  bool inline_reads_;
  InlineStreak streak_;
};

// An explicit transaction on the pool's writer. Dropped without an end, it
// rolls back, so a forgotten transaction cannot hold the writer forever.
class NativeTransaction {
 public:
  explicit NativeTransaction(const NativePool& pool) : pool_(pool.core()) {}
  ~NativeTransaction();
  nb::object begin(nb::handle port);
  // Runs a short read inline on an idle reader and returns its rows;
  // anything else is queued and its future returned.
  nb::object execute(nb::handle port, nb::handle sql, nb::handle parameters);
  nb::object executemany(nb::handle port, nb::handle sql, nb::handle batch);
  nb::object end(nb::handle port, bool commit);

 private:
  std::shared_ptr<Pool> pool_;
  std::uint64_t id_ = 0;
  bool ended_ = false;
};

// A read transaction pinned to one reader.
class NativeSnapshot {
 public:
  explicit NativeSnapshot(const NativePool& pool) : pool_(pool.core()) {}
  ~NativeSnapshot();
  nb::object begin(nb::handle port);
  // Runs a short read inline on an idle reader and returns its rows;
  // anything else is queued and its future returned.
  nb::object execute(nb::handle port, nb::handle sql, nb::handle parameters);
  nb::object end(nb::handle port);

 private:
  std::shared_ptr<Pool> pool_;
  int reader_ = -1;
  bool ended_ = false;
};

}  // namespace aiolibsql::py
