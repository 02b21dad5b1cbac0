// The audit exporter's disk spool: an append-only file of length-prefixed,
// checksummed records, consumed in order from a persisted read offset. It
// holds events while the audit log is unreachable (or the in-memory queue is
// too long) so that they survive a restart of the process and are replayed
// in the order they were spooled.
#ifndef SHOP_CORE_SPOOL_H_
#define SHOP_CORE_SPOOL_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shop {

// Not thread-safe; the exporter serialises access. Layout of a record:
// u32 little-endian length, u32 little-endian FNV-1a of the payload, payload.
// A torn record at the end (a crash mid-write) is cut off on Open. The read
// offset lives beside the file in "<path>.offset" (replaced atomically).
// Appends are not fsync'ed: they survive a crash of the process, not of the
// machine.
class Spool {
 public:
  static absl::StatusOr<std::unique_ptr<Spool>> Open(std::string path);
  ~Spool();
  Spool(const Spool&) = delete;
  Spool& operator=(const Spool&) = delete;

  absl::Status Append(const std::vector<std::string>& records);
  // Up to `max_records` records (and about `max_bytes`) from the read
  // position, without consuming them.
  absl::StatusOr<std::vector<std::string>> Peek(size_t max_records, size_t max_bytes);
  // Consumes the first `count` records of the last Peek. Once everything is
  // consumed the file is truncated to zero.
  absl::Status Consume(size_t count);

  uint64_t pending() const { return pending_; }
  const std::string& path() const { return path_; }

 private:
  explicit Spool(std::string path) : path_(std::move(path)) {}
  absl::Status Load();
  absl::Status SaveOffset();

  std::string path_;
  int fd_ = -1;
  uint64_t read_offset_ = 0;
  uint64_t end_offset_ = 0;
  uint64_t pending_ = 0;
  std::vector<uint64_t> peeked_ends_;  // end offset of each record of the last Peek
};

}  // namespace shop

#endif  // SHOP_CORE_SPOOL_H_
