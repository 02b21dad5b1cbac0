// The audit exporter's disk spool: an append-only file of checksummed
// records, consumed in order from a persisted read offset. It holds events
// while the audit log is unreachable (or the in-memory queue is too long) so
// that they survive a restart of the process and are replayed in the order
// they were spooled.
#ifndef SHOP_CORE_SPOOL_H_
#define SHOP_CORE_SPOOL_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace shop {

// Not thread-safe; the exporter serialises access.
//
// File format, version 2 (all integers little-endian; CRC = CRC-32C):
// - An empty file is an empty spool. The first Append writes a 64-byte file
//   header: "SHSPOOL", the version byte 2, a random 16-byte file id, the CRC
//   of those 24 bytes, 4 zero bytes; then the same 32 bytes again, so that
//   one damaged byte cannot cost the id.
// - Then records: u32 magic 0xe10f5bd3 (bytes d3 5b 0f e1), u32 payload
//   length, u32 CRC of the payload, u32 CRC of the file id and the 12 header
//   bytes before it; then the payload. Binding the header CRC to the file id
//   makes a record of another file (or one forged inside a payload) invalid.
// A record that fails a check costs that record only: the reader scans
// forward byte by byte to the next valid record header, counts the corrupt
// stretch and logs it. A torn record at the end (a crash mid-write) is cut off
// on Open, as is a corrupt one with no valid record after it.
//
// The read offset lives beside the file in "<path>.offset", one line
// "2 <file id in hex> <offset>": an offset naming another file id (a spool
// file recreated meanwhile) is ignored with a log line and the file is
// replayed from its start (the audit log stores an event_id once). Consume
// writes it (temporary file, fsync, rename, fsync of the directory) before it
// truncates a fully consumed file, and removes it after: a SIGKILL at any
// point replays events again at worst, never loses one.
//
// A file of the earlier format (no header, u32 length, u32 FNV-1a, payload)
// is rewritten in this one on Open and replayed from its start (its offset
// cannot be trusted). A file of an unknown version or with both header copies
// damaged is moved aside to "<path>.corrupt-<n>", never deleted.
//
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
  // position, without consuming them. Corrupt records are skipped (and
  // counted the first time they are met).
  absl::StatusOr<std::vector<std::string>> Peek(size_t max_records, size_t max_bytes);
  // Consumes the first `count` records of the last Peek. Once everything is
  // consumed the file is truncated to zero.
  absl::Status Consume(size_t count);
  // For a spool that cannot be read any more: moves the file (and its offset
  // file) aside to "<path>.corrupt-<n>" and goes on with an empty file. After
  // an error the spool must not be used.
  absl::Status Reset();

  uint64_t pending() const { return pending_; }
  // Stretches of unreadable data skipped or cut off since Open (each cost at
  // least one record, usually exactly one; a file moved aside on Open counts
  // as one), and their size in bytes.
  uint64_t corrupt_records() const { return corrupt_records_; }
  uint64_t corrupt_bytes() const { return corrupt_bytes_; }
  const std::string& path() const { return path_; }

 private:
  explicit Spool(std::string path) : path_(std::move(path)) {}
  absl::Status Load();
  absl::Status LoadLegacy(uint64_t size);
  absl::Status MoveAsideOnOpen(uint64_t size, absl::string_view why);
  void ReadOffsetFile(uint64_t size);
  absl::Status SaveOffset();
  absl::Status StartAfresh();
  void SetFileId(std::string id);
  void CountCorrupt(uint64_t at, uint64_t bytes, absl::string_view what);

  std::string path_;
  int fd_ = -1;
  std::string file_id_;  // 16 bytes; empty while the file is empty
  uint32_t file_id_crc_ = 0;
  uint64_t read_offset_ = 0;
  uint64_t end_offset_ = 0;
  uint64_t pending_ = 0;  // valid records after read_offset_ (never fewer)
  uint64_t corrupt_records_ = 0;
  uint64_t corrupt_bytes_ = 0;
  std::map<uint64_t, uint64_t> skips_;  // corrupt stretches met: start -> next valid record
  std::vector<uint64_t> peeked_ends_;   // end offset of each record of the last Peek
};

}  // namespace shop

#endif  // SHOP_CORE_SPOOL_H_
