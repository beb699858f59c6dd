// The Python-facing handles of a RemotePool and of the transactions and
// snapshots that pin one of its streams: the methods of NativePool,
// NativeTransaction and NativeSnapshot, so the Python pool drives either.
#pragma once

#include <nanobind/nanobind.h>

#include <memory>
#include <string>

#include "remote_pool.hpp"

namespace aiolibsql::py {

namespace nb = nanobind;

class NativeRemotePinned;

class NativeRemotePool {
 public:
  // Throws InterfaceError for a URL that is not a remote database's.
  NativeRemotePool(const std::string& url, nb::handle auth_token, double timeout, std::size_t size);

  nb::object open(nb::handle port);
  nb::object execute(nb::handle port, nb::handle sql, nb::handle parameters);
  // All parameter sets in one transaction, in one round trip.
  nb::object executemany(nb::handle port, nb::handle sql, nb::handle batch);
  nb::object executebatch(nb::handle port, nb::handle statements);
  // Whether `sql` may write: inside its own transaction's block, a task
  // running it on another stream would wait for its own write lock.
  bool goes_to_writer(nb::handle sql);
  nb::object close(nb::handle port);
  nb::list stats() const;
  NativeRemotePinned transaction() const;
  NativeRemotePinned snapshot() const;
  std::size_t size() const noexcept { return core_->size(); }
  std::size_t reader_count() const noexcept { return core_->pinnable(); }
  bool closed() const { return core_->is_closed(); }

 private:
  std::shared_ptr<remote::RemotePool> core_;
};

// A transaction or snapshot on one pinned stream; dropped unended, it rolls back and frees the stream.
class NativeRemotePinned {
 public:
  NativeRemotePinned(std::shared_ptr<remote::RemotePool> pool, remote::PinKind kind)
      : pool_(std::move(pool)), kind_(kind) {}
  NativeRemotePinned(NativeRemotePinned&& other) noexcept;
  NativeRemotePinned(const NativeRemotePinned&) = delete;
  NativeRemotePinned& operator=(const NativeRemotePinned&) = delete;
  NativeRemotePinned& operator=(NativeRemotePinned&&) = delete;
  ~NativeRemotePinned();

  nb::object begin(nb::handle port);
  nb::object execute(nb::handle port, nb::handle sql, nb::handle parameters);
  nb::object executemany(nb::handle port, nb::handle sql, nb::handle batch);
  // A snapshot always rolls back.
  nb::object end(nb::handle port, bool commit);

 private:
  void require_active() const;

  std::shared_ptr<remote::RemotePool> pool_;
  remote::PinKind kind_;
  int stream_ = -1;
  bool ended_ = false;
};

}  // namespace aiolibsql::py
