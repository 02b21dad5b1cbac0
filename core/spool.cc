#include "core/spool.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "core/log.h"

namespace shop {
namespace {

constexpr uint32_t kMaxRecordBytes = 16 << 20;
constexpr int kVersion = 2;
// "SHSPOOL" and the version byte, the id, its CRC and 4 zero bytes; twice.
constexpr char kFileMagic[] = "SHSPOOL\x02";
constexpr size_t kFileMagicBytes = 8;  // with the version byte
constexpr size_t kFileIdBytes = 16;
constexpr size_t kHeaderCopyBytes = 32;
constexpr uint64_t kFileHeaderBytes = 2 * kHeaderCopyBytes;
constexpr char kRecordMagic[] = "\xd3\x5b\x0f\xe1";
constexpr size_t kRecordMagicBytes = 4;
constexpr size_t kRecordHeaderBytes = 16;
// The format before version 2: u32 length, u32 FNV-1a of the payload.
constexpr size_t kLegacyHeaderBytes = 8;

struct Crc32cTable {
  uint32_t entries[256];
  constexpr Crc32cTable() : entries() {
    for (uint32_t i = 0; i < 256; ++i) {
      uint32_t crc = i;
      for (int bit = 0; bit < 8; ++bit) crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82f63b78u : crc >> 1;
      entries[i] = crc;
    }
  }
};
constexpr Crc32cTable kCrc32c;

// CRC-32C (Castagnoli) of `data`, continuing `crc` (the CRC of what came
// before; 0 for none).
uint32_t Crc32c(absl::string_view data, uint32_t crc = 0) {
  crc = ~crc;
  for (unsigned char c : data) crc = kCrc32c.entries[(crc ^ c) & 0xff] ^ (crc >> 8);
  return ~crc;
}

uint32_t Fnv1a(absl::string_view data) {
  uint32_t hash = 2166136261u;
  for (unsigned char c : data) {
    hash ^= c;
    hash *= 16777619u;
  }
  return hash;
}

void PutU32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

uint32_t GetU32(const char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}

absl::Status Errno(absl::string_view what, const std::string& path) {
  return absl::UnavailableError(absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

absl::Status ReadAt(int fd, uint64_t offset, char* buffer, size_t size, const std::string& path) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, buffer + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("cannot read spool", path);
    if (n == 0) {
      return absl::UnavailableError(
          absl::StrCat("cannot read spool ", path, ": it ends before byte ", offset + size));
    }
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status WriteAt(int fd, uint64_t offset, absl::string_view data, const std::string& path) {
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n =
        pwrite(fd, data.data() + done, data.size() - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return Errno("cannot write", path);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

absl::Status SyncDirectoryOf(const std::string& path) {
  size_t slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
  int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("cannot open directory", dir);
  int synced = fsync(fd);
  close(fd);
  if (synced != 0) return Errno("cannot sync directory", dir);
  return absl::OkStatus();
}

absl::StatusOr<std::string> NewFileId() {
  std::string id(kFileIdBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(id.data()), static_cast<int>(id.size())) != 1) {
    return absl::InternalError("no randomness for a spool file id");
  }
  return id;
}

std::string FileHeader(absl::string_view id) {
  std::string copy(kFileMagic, kFileMagicBytes);
  copy.append(id.data(), id.size());
  PutU32(copy, Crc32c(copy));
  copy.append(4, '\0');
  return copy + copy;
}

// The file id of one copy of the header, or false if the copy is damaged.
bool ParseHeaderCopy(absl::string_view copy, std::string* id) {
  if (copy.size() < kHeaderCopyBytes) return false;
  if (copy.substr(0, kFileMagicBytes) != absl::string_view(kFileMagic, kFileMagicBytes)) {
    return false;
  }
  const size_t covered = kFileMagicBytes + kFileIdBytes;
  if (Crc32c(copy.substr(0, covered)) != GetU32(copy.data() + covered)) return false;
  *id = std::string(copy.substr(kFileMagicBytes, kFileIdBytes));
  return true;
}

void AppendRecord(std::string& out, uint32_t file_id_crc, absl::string_view payload) {
  std::string header(kRecordMagic, kRecordMagicBytes);
  PutU32(header, static_cast<uint32_t>(payload.size()));
  PutU32(header, Crc32c(payload));
  PutU32(header, Crc32c(header, file_id_crc));
  out += header;
  out.append(payload.data(), payload.size());
}

enum class RecordCheck { kValid, kTorn, kBad };

// Whether a valid record starts at `at` (the file ends at `end`); a valid
// record's payload is left in `payload`. kTorn: what is there is the start of
// a record that runs past the end (a crash mid-write).
absl::StatusOr<RecordCheck> CheckRecord(int fd, const std::string& path, uint32_t file_id_crc,
                                        uint64_t at, uint64_t end, std::string* payload) {
  char header[kRecordHeaderBytes];
  const uint64_t available = end - at;
  if (available < kRecordHeaderBytes) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(available, kRecordMagicBytes));
    if (absl::Status read = ReadAt(fd, at, header, n, path); !read.ok()) return read;
    return std::memcmp(header, kRecordMagic, n) == 0 ? RecordCheck::kTorn : RecordCheck::kBad;
  }
  if (absl::Status read = ReadAt(fd, at, header, kRecordHeaderBytes, path); !read.ok()) return read;
  if (std::memcmp(header, kRecordMagic, kRecordMagicBytes) != 0) return RecordCheck::kBad;
  if (Crc32c(absl::string_view(header, 12), file_id_crc) != GetU32(header + 12)) {
    return RecordCheck::kBad;
  }
  const uint32_t length = GetU32(header + 4);
  if (length > kMaxRecordBytes) return RecordCheck::kBad;
  if (length > available - kRecordHeaderBytes) return RecordCheck::kTorn;
  payload->resize(length);
  if (absl::Status read = ReadAt(fd, at + kRecordHeaderBytes, payload->data(), length, path);
      !read.ok()) {
    return read;
  }
  return Crc32c(*payload) == GetU32(header + 8) ? RecordCheck::kValid : RecordCheck::kBad;
}

// The offset of the first valid record at or after `from`, or `end` if there
// is none: reads in chunks and checks every place where the magic appears.
absl::StatusOr<uint64_t> NextRecord(int fd, const std::string& path, uint32_t file_id_crc,
                                    uint64_t from, uint64_t end) {
  constexpr size_t kChunk = 1 << 16;
  std::string chunk;
  std::string payload;
  for (uint64_t pos = from; pos < end; pos += kChunk) {
    // A magic that starts in this chunk may end in the next one.
    chunk.resize(
        static_cast<size_t>(std::min<uint64_t>(kChunk + kRecordMagicBytes - 1, end - pos)));
    if (absl::Status read = ReadAt(fd, pos, chunk.data(), chunk.size(), path); !read.ok()) {
      return read;
    }
    // (npos, not found, is beyond kChunk too.)
    for (size_t i = chunk.find(kRecordMagic, 0, kRecordMagicBytes); i < kChunk;
         i = chunk.find(kRecordMagic, i + 1, kRecordMagicBytes)) {
      absl::StatusOr<RecordCheck> check =
          CheckRecord(fd, path, file_id_crc, pos + i, end, &payload);
      if (!check.ok()) return check.status();
      if (*check == RecordCheck::kValid) return pos + i;
    }
  }
  return end;
}

// Links `path` to the first free "<path>.corrupt-<n>" (never replacing a
// file) and returns that name.
absl::StatusOr<std::string> LinkAside(const std::string& path) {
  for (int n = 1; n <= 10000; ++n) {
    std::string target = absl::StrCat(path, ".corrupt-", n);
    if (link(path.c_str(), target.c_str()) == 0) return target;
    if (errno != EEXIST) return Errno(absl::StrCat("cannot keep a copy as ", target, " of"), path);
  }
  return absl::ResourceExhaustedError(absl::StrCat("too many ", path, ".corrupt-* files"));
}

// Moves `path` and its offset file aside; returns the new name.
absl::StatusOr<std::string> MoveAside(const std::string& path) {
  absl::StatusOr<std::string> target = LinkAside(path);
  if (!target.ok()) return target;
  if (unlink(path.c_str()) != 0) return Errno("cannot remove", path);
  const std::string offset = path + ".offset";
  if (std::rename(offset.c_str(), (*target + ".offset").c_str()) != 0 && errno != ENOENT) {
    return Errno("cannot move aside", offset);
  }
  if (absl::Status synced = SyncDirectoryOf(path); !synced.ok()) return synced;
  return target;
}

absl::Status RemoveOffsetFile(const std::string& path) {
  const std::string offset = path + ".offset";
  if (unlink(offset.c_str()) != 0 && errno != ENOENT) return Errno("cannot remove", offset);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Spool>> Spool::Open(std::string path) {
  std::unique_ptr<Spool> spool(new Spool(std::move(path)));
  absl::Status loaded = spool->Load();
  if (!loaded.ok()) return loaded;
  return spool;
}

Spool::~Spool() {
  if (fd_ >= 0) close(fd_);
}

void Spool::SetFileId(std::string id) {
  file_id_ = std::move(id);
  file_id_crc_ = Crc32c(file_id_);
}

void Spool::CountCorrupt(uint64_t at, uint64_t bytes, absl::string_view what) {
  ++corrupt_records_;
  corrupt_bytes_ += bytes;
  log::Error(absl::StrCat("audit spool: ", what),
             {{"path", path_},
              {"offset", static_cast<int64_t>(at)},
              {"bytes", static_cast<int64_t>(bytes)},
              {"corrupt_records", static_cast<int64_t>(corrupt_records_)}});
}

absl::Status Spool::Load() {
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Errno("cannot open spool", path_);
  struct stat st {};
  if (fstat(fd_, &st) != 0) return Errno("cannot stat spool", path_);
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size == 0) {
    struct stat leftover {};
    if (stat((path_ + ".offset").c_str(), &leftover) == 0) {
      log::Info("audit spool: the file is empty; removing the read offset of an earlier one",
                {{"path", path_}});
    }
    return StartAfresh();
  }

  char header[kFileHeaderBytes];
  const size_t head = static_cast<size_t>(std::min<uint64_t>(size, kFileHeaderBytes));
  if (absl::Status read = ReadAt(fd_, 0, header, head, path_); !read.ok()) return read;
  const bool magic = head >= 7 && std::memcmp(header, kFileMagic, 7) == 0;
  if (size < kFileHeaderBytes) {
    if (std::memcmp(header, kFileMagic, std::min(head, kFileMagicBytes)) == 0) {
      // A crash while the first Append wrote the header: no record is there.
      log::Warn("audit spool: cut off a torn file header", {{"path", path_}});
      return StartAfresh();
    }
    if (!magic) return LoadLegacy(size);
    return MoveAsideOnOpen(size, "a spool file of an unknown format version");
  }
  std::string id;
  const absl::string_view first(header, kHeaderCopyBytes);
  const absl::string_view second(header + kHeaderCopyBytes, kHeaderCopyBytes);
  if (ParseHeaderCopy(first, &id)) {
    SetFileId(id);
  } else if (ParseHeaderCopy(second, &id)) {
    SetFileId(id);
    log::Warn("audit spool: the first copy of the file header is damaged; repaired from the second",
              {{"path", path_}});
    if (absl::Status repaired = WriteAt(fd_, 0, FileHeader(file_id_), path_); !repaired.ok()) {
      return repaired;
    }
  } else if (magic || std::memcmp(second.data(), kFileMagic, 7) == 0) {
    const bool other_version = (magic && static_cast<unsigned char>(header[7]) != kVersion) ||
                               (std::memcmp(second.data(), kFileMagic, 7) == 0 &&
                                static_cast<unsigned char>(second[7]) != kVersion);
    return MoveAsideOnOpen(size, other_version
                                     ? "a spool file of an unknown format version"
                                     : "both copies of the spool file header are damaged");
  } else {
    return LoadLegacy(size);
  }

  ReadOffsetFile(size);
  // Walk the unread records: count them, skip corrupt stretches, cut off a
  // torn or corrupt tail.
  uint64_t at = read_offset_;
  std::string payload;
  while (at < size) {
    absl::StatusOr<RecordCheck> check = CheckRecord(fd_, path_, file_id_crc_, at, size, &payload);
    if (!check.ok()) return check.status();
    if (*check == RecordCheck::kValid) {
      at += kRecordHeaderBytes + payload.size();
      ++pending_;
      continue;
    }
    absl::StatusOr<uint64_t> next = NextRecord(fd_, path_, file_id_crc_, at + 1, size);
    if (!next.ok()) return next.status();
    if (*next < size) {
      CountCorrupt(at, *next - at, "skipped a corrupt record; the records after it are kept");
      skips_[at] = *next;
      at = *next;
      continue;
    }
    if (*check == RecordCheck::kTorn) {
      log::Warn("audit spool: cut off a torn record at the end (a crash mid-write)",
                {{"path", path_},
                 {"offset", static_cast<int64_t>(at)},
                 {"bytes", static_cast<int64_t>(size - at)}});
    } else {
      CountCorrupt(at, size - at, "cut off a corrupt record at the end");
    }
    if (ftruncate(fd_, static_cast<off_t>(at)) != 0) {
      return Errno("cannot cut the torn tail of spool", path_);
    }
    break;
  }
  end_offset_ = at;
  // Nothing left to replay: the offset (if any) already says so.
  if (pending_ == 0) return StartAfresh();
  return absl::OkStatus();
}

void Spool::ReadOffsetFile(uint64_t size) {
  read_offset_ = kFileHeaderBytes;
  std::ifstream in(path_ + ".offset");
  if (!in) return;  // nothing consumed yet
  std::string version, id, offset_text;
  in >> version >> id >> offset_text;
  uint64_t offset = 0;
  const bool ours = version == std::to_string(kVersion) && id == absl::BytesToHexString(file_id_);
  if (ours && absl::SimpleAtoi(offset_text, &offset) && offset >= kFileHeaderBytes &&
      offset <= size) {
    read_offset_ = offset;
    return;
  }
  log::Warn(ours
                ? "audit spool: ignoring a read offset beyond the file; replaying it from the start"
                : "audit spool: ignoring the read offset of another spool file; replaying this "
                  "one from its start (the audit log drops duplicates)",
            {{"path", path_}, {"offset_file", absl::StrCat(version, " ", id, " ", offset_text)}});
}

absl::Status Spool::LoadLegacy(uint64_t size) {
  log::Warn(
      "audit spool in the format before version 2: rewriting it; it is replayed from its start "
      "(the audit log drops duplicates)",
      {{"path", path_}, {"bytes", static_cast<int64_t>(size)}});
  absl::StatusOr<std::string> id = NewFileId();
  if (!id.ok()) return id.status();
  const uint32_t id_crc = Crc32c(*id);
  const std::string tmp = path_ + ".v2.tmp";
  int out = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) return Errno("cannot create", tmp);
  std::string buffer = FileHeader(*id);
  uint64_t written = 0;
  uint64_t records = 0;
  uint64_t at = 0;
  char header[kLegacyHeaderBytes];
  std::string payload;
  absl::Status status;
  bool torn = false;
  while (status.ok()) {
    if (size - at < kLegacyHeaderBytes) {
      torn = true;
      break;
    }
    status = ReadAt(fd_, at, header, kLegacyHeaderBytes, path_);
    if (!status.ok()) break;
    const uint32_t length = GetU32(header);
    if (length > kMaxRecordBytes) break;
    if (length > size - at - kLegacyHeaderBytes) {
      torn = true;
      break;
    }
    payload.resize(length);
    status = ReadAt(fd_, at + kLegacyHeaderBytes, payload.data(), length, path_);
    if (!status.ok() || Fnv1a(payload) != GetU32(header + 4)) break;
    AppendRecord(buffer, id_crc, payload);
    ++records;
    at += kLegacyHeaderBytes + length;
    if (buffer.size() >= (1 << 20)) {
      status = WriteAt(out, written, buffer, tmp);
      written += buffer.size();
      buffer.clear();
    }
  }
  if (status.ok()) status = WriteAt(out, written, buffer, tmp);
  written += buffer.size();
  if (status.ok() && fsync(out) != 0) status = Errno("cannot sync", tmp);
  close(out);
  if (!status.ok()) return status;
  if (at < size && !torn) {
    // Unreadable data (not a torn tail): the old format cannot resynchronise,
    // so the whole file is kept for a manual look.
    absl::StatusOr<std::string> kept = LinkAside(path_);
    if (!kept.ok()) return kept.status();
    CountCorrupt(at, size - at,
                 absl::StrCat("the rest of a spool file of the format before version 2 is "
                              "unreadable; the whole file is kept as ",
                              *kept));
  }
  if (std::rename(tmp.c_str(), path_.c_str()) != 0) return Errno("cannot replace", path_);
  if (absl::Status synced = SyncDirectoryOf(path_); !synced.ok()) return synced;
  // The old offset cannot be trusted (it may belong to an earlier file).
  if (absl::Status removed = RemoveOffsetFile(path_); !removed.ok()) return removed;
  close(fd_);
  fd_ = open(path_.c_str(), O_RDWR | O_CLOEXEC);
  if (fd_ < 0) return Errno("cannot open spool", path_);
  SetFileId(*id);
  read_offset_ = kFileHeaderBytes;
  end_offset_ = written;
  pending_ = records;
  if (pending_ == 0) return StartAfresh();
  return absl::OkStatus();
}

absl::Status Spool::MoveAsideOnOpen(uint64_t size, absl::string_view why) {
  close(fd_);
  fd_ = -1;
  absl::StatusOr<std::string> moved = MoveAside(path_);
  if (!moved.ok()) return moved.status();
  CountCorrupt(
      0, size,
      absl::StrCat(why, ": moved aside to ", *moved, ", not replayed; the spool is empty"));
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Errno("cannot open spool", path_);
  return StartAfresh();
}

absl::Status Spool::Append(const std::vector<std::string>& records) {
  if (records.empty()) return absl::OkStatus();
  std::string buffer;
  std::string id = file_id_;
  const bool fresh = end_offset_ == 0;
  if (fresh) {
    // A new file gets a new id: no offset of an earlier file can apply to it.
    absl::StatusOr<std::string> made = NewFileId();
    if (!made.ok()) return made.status();
    id = std::move(*made);
    buffer = FileHeader(id);
  }
  const uint32_t id_crc = Crc32c(id);
  for (const std::string& record : records) {
    if (record.size() > kMaxRecordBytes) {
      return absl::InvalidArgumentError(absl::StrCat("spool record of ", record.size(), " bytes"));
    }
    AppendRecord(buffer, id_crc, record);
  }
  if (absl::Status written = WriteAt(fd_, end_offset_, buffer, path_); !written.ok()) {
    // Cut what was half-written so that the file stays a sequence of
    // whole records.
    if (ftruncate(fd_, static_cast<off_t>(end_offset_)) != 0) {
      return Errno("cannot repair spool", path_);
    }
    return written;
  }
  if (fresh) {
    SetFileId(std::move(id));
    read_offset_ = kFileHeaderBytes;
  }
  end_offset_ += buffer.size();
  pending_ += records.size();
  return absl::OkStatus();
}

absl::StatusOr<std::vector<std::string>> Spool::Peek(size_t max_records, size_t max_bytes) {
  std::vector<std::string> out;
  peeked_ends_.clear();
  uint64_t at = read_offset_;
  size_t bytes = 0;
  std::string payload;
  while (at < end_offset_ && out.size() < max_records && bytes < max_bytes) {
    if (auto skip = skips_.find(at); skip != skips_.end()) {
      at = skip->second;
      continue;
    }
    absl::StatusOr<RecordCheck> check =
        CheckRecord(fd_, path_, file_id_crc_, at, end_offset_, &payload);
    if (!check.ok()) return check.status();
    if (*check != RecordCheck::kValid) {
      // Damaged since Open.
      absl::StatusOr<uint64_t> next = NextRecord(fd_, path_, file_id_crc_, at + 1, end_offset_);
      if (!next.ok()) return next.status();
      CountCorrupt(at, *next - at, "skipped a corrupt record; the records after it are kept");
      skips_[at] = *next;
      at = *next;
      continue;
    }
    at += kRecordHeaderBytes + payload.size();
    bytes += payload.size();
    peeked_ends_.push_back(at);
    out.push_back(std::move(payload));
  }
  if (at >= end_offset_) pending_ = out.size();  // all that is left
  return out;
}

absl::Status Spool::Consume(size_t count) {
  if (count == 0) return absl::OkStatus();
  if (count > peeked_ends_.size()) {
    return absl::FailedPreconditionError("consuming records that were not peeked");
  }
  read_offset_ = peeked_ends_[count - 1];
  peeked_ends_.clear();
  pending_ -= std::min<uint64_t>(count, pending_);
  skips_.erase(skips_.begin(), skips_.lower_bound(read_offset_));
  // The offset is on disk before anything is cut: a crash at any point
  // replays records again at worst.
  if (absl::Status saved = SaveOffset(); !saved.ok()) return saved;
  if (read_offset_ == end_offset_) return StartAfresh();  // everything was delivered
  return absl::OkStatus();
}

absl::Status Spool::Reset() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  std::string moved_to = "(the file was gone)";
  struct stat st {};
  if (stat(path_.c_str(), &st) == 0) {
    absl::StatusOr<std::string> moved = MoveAside(path_);
    if (!moved.ok()) return moved.status();
    moved_to = *moved;
  }
  log::Error("audit spool moved aside; its events are not replayed",
             {{"path", path_}, {"moved_to", moved_to}, {"events", static_cast<int64_t>(pending_)}});
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) return Errno("cannot open spool", path_);
  return StartAfresh();
}

absl::Status Spool::StartAfresh() {
  // Truncate first, then remove the offset: in between, a crash leaves an
  // empty file, whose offset file is ignored.
  if (ftruncate(fd_, 0) != 0) return Errno("cannot truncate spool", path_);
  file_id_.clear();
  file_id_crc_ = 0;
  read_offset_ = end_offset_ = pending_ = 0;
  skips_.clear();
  peeked_ends_.clear();
  return RemoveOffsetFile(path_);
}

absl::Status Spool::SaveOffset() {
  const std::string tmp = path_ + ".offset.tmp";
  const std::string text =
      absl::StrCat(kVersion, " ", absl::BytesToHexString(file_id_), " ", read_offset_, "\n");
  int fd = open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("cannot create", tmp);
  absl::Status written = WriteAt(fd, 0, text, tmp);
  if (written.ok() && fsync(fd) != 0) written = Errno("cannot sync", tmp);
  if (close(fd) != 0 && written.ok()) written = Errno("cannot close", tmp);
  if (!written.ok()) return written;
  if (std::rename(tmp.c_str(), (path_ + ".offset").c_str()) != 0) {
    return Errno("cannot replace", path_ + ".offset");
  }
  return SyncDirectoryOf(path_);
}

}  // namespace shop
