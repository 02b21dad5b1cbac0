#include "core/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace shop {
namespace {

constexpr size_t kHeaderBytes = 8;
constexpr uint32_t kMaxRecordBytes = 16 << 20;

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

bool ReadFully(int fd, uint64_t offset, char* buffer, size_t size) {
  size_t done = 0;
  while (done < size) {
    ssize_t n = pread(fd, buffer + done, size - done, static_cast<off_t>(offset + done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
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

absl::Status Spool::Load() {
  fd_ = open(path_.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (fd_ < 0) return Errno("cannot open spool", path_);
  struct stat st {};
  if (fstat(fd_, &st) != 0) return Errno("cannot stat spool", path_);
  uint64_t size = static_cast<uint64_t>(st.st_size);

  std::ifstream offset_file(path_ + ".offset");
  std::string text;
  if (offset_file >> text) {
    uint64_t offset = 0;
    if (absl::SimpleAtoi(text, &offset) && offset <= size) read_offset_ = offset;
  }
  // Walk the unread records: count them and cut off a torn tail.
  uint64_t at = read_offset_;
  char header[kHeaderBytes];
  std::string payload;
  while (at + kHeaderBytes <= size) {
    if (!ReadFully(fd_, at, header, kHeaderBytes)) break;
    uint32_t length = GetU32(header);
    if (length > kMaxRecordBytes || at + kHeaderBytes + length > size) break;
    payload.resize(length);
    if (!ReadFully(fd_, at + kHeaderBytes, payload.data(), length)) break;
    if (Fnv1a(payload) != GetU32(header + 4)) break;
    at += kHeaderBytes + length;
    ++pending_;
  }
  if (at != size && ftruncate(fd_, static_cast<off_t>(at)) != 0) {
    return Errno("cannot cut the torn tail of spool", path_);
  }
  end_offset_ = at;
  return absl::OkStatus();
}

absl::Status Spool::Append(const std::vector<std::string>& records) {
  if (records.empty()) return absl::OkStatus();
  std::string buffer;
  for (const std::string& record : records) {
    if (record.size() > kMaxRecordBytes) {
      return absl::InvalidArgumentError(absl::StrCat("spool record of ", record.size(), " bytes"));
    }
    PutU32(buffer, static_cast<uint32_t>(record.size()));
    PutU32(buffer, Fnv1a(record));
    buffer += record;
  }
  size_t done = 0;
  while (done < buffer.size()) {
    ssize_t n = write(fd_, buffer.data() + done, buffer.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      // Cut what was half-written so that the file stays a sequence of
      // whole records.
      absl::Status error = Errno("cannot write spool", path_);
      if (ftruncate(fd_, static_cast<off_t>(end_offset_)) != 0) {
        return Errno("cannot repair spool", path_);
      }
      return error;
    }
    done += static_cast<size_t>(n);
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
  char header[kHeaderBytes];
  while (at < end_offset_ && out.size() < max_records && bytes < max_bytes) {
    if (!ReadFully(fd_, at, header, kHeaderBytes)) return Errno("cannot read spool", path_);
    uint32_t length = GetU32(header);
    std::string payload(length, '\0');
    if (!ReadFully(fd_, at + kHeaderBytes, payload.data(), length)) {
      return Errno("cannot read spool", path_);
    }
    if (Fnv1a(payload) != GetU32(header + 4)) {
      return absl::DataLossError(absl::StrCat("spool ", path_, " is corrupt at byte ", at));
    }
    at += kHeaderBytes + length;
    bytes += length;
    peeked_ends_.push_back(at);
    out.push_back(std::move(payload));
  }
  return out;
}

absl::Status Spool::Consume(size_t count) {
  if (count == 0) return absl::OkStatus();
  if (count > peeked_ends_.size()) {
    return absl::FailedPreconditionError("consuming records that were not peeked");
  }
  read_offset_ = peeked_ends_[count - 1];
  peeked_ends_.clear();
  pending_ -= count;
  if (read_offset_ == end_offset_) {
    // Everything was delivered: start the file afresh.
    if (ftruncate(fd_, 0) != 0) return Errno("cannot truncate spool", path_);
    read_offset_ = end_offset_ = 0;
    pending_ = 0;
  }
  return SaveOffset();
}

absl::Status Spool::SaveOffset() {
  std::string tmp = path_ + ".offset.tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << read_offset_ << "\n";
    if (!out.flush()) return Errno("cannot write", tmp);
  }
  if (std::rename(tmp.c_str(), (path_ + ".offset").c_str()) != 0) {
    return Errno("cannot replace", path_ + ".offset");
  }
  return absl::OkStatus();
}

}  // namespace shop
