#include "core/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "gtest/gtest.h"

namespace shop {
namespace {

std::vector<std::string> Five() {
  return {"alpha-record", "bravo-record", "charlie-record", "delta-record", "echo-record"};
}

class SpoolTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/spool-test-XXXXXX";
    dir_ = mkdtemp(tmpl);
    path_ = dir_ + "/audit.spool";
  }
  void TearDown() override { std::system(("rm -rf " + dir_).c_str()); }

  off_t FileSize() {
    struct stat st {};
    stat(path_.c_str(), &st);
    return st.st_size;
  }

  // A file's bytes; nullopt if it does not exist.
  // Every record the spool would replay (a Peek with room for all of them).
  static std::vector<std::string> Pending(Spool& spool) {
    auto records = spool.Peek(100, 1 << 20);
    EXPECT_TRUE(records.ok()) << records.status();
    return records.ok() ? *records : std::vector<std::string>{};
  }

  static std::optional<std::string> ReadFile(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream bytes;
    bytes << in.rdbuf();
    return bytes.str();
  }

  // Puts the bytes back, or removes the file for nullopt.
  static void WriteFile(const std::string& path, const std::optional<std::string>& bytes) {
    if (!bytes.has_value()) {
      std::remove(path.c_str());
      return;
    }
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes->data(), static_cast<std::streamsize>(bytes->size()));
  }

  // Where `needle` (a payload) starts in the spool file; -1 if it is not there.
  off_t Find(const std::string& needle) {
    std::string bytes = ReadFile(path_).value_or("");
    size_t at = bytes.find(needle);
    return at == std::string::npos ? -1 : static_cast<off_t>(at);
  }

  void Overwrite(off_t at, const std::string& bytes) {
    int fd = open(path_.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(pwrite(fd, bytes.data(), bytes.size(), at), static_cast<ssize_t>(bytes.size()));
    close(fd);
  }

  void FlipByte(off_t at) {
    int fd = open(path_.c_str(), O_RDWR);
    ASSERT_GE(fd, 0);
    char c = 0;
    ASSERT_EQ(pread(fd, &c, 1, at), 1);
    c = static_cast<char>(c ^ 0x55);
    ASSERT_EQ(pwrite(fd, &c, 1, at), 1);
    close(fd);
  }

  // Writes the five records of Five() with one spool, then closes it.
  void WriteFive() {
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    ASSERT_TRUE((*spool)->Append(Five()).ok());
  }

  std::string dir_;
  std::string path_;
};

TEST_F(SpoolTest, ReplaysInOrderAcrossReopen) {
  {
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    ASSERT_TRUE((*spool)->Append({"one", "two"}).ok());
    ASSERT_TRUE((*spool)->Append({"three"}).ok());
    EXPECT_EQ((*spool)->pending(), 3u);
    auto first = (*spool)->Peek(1, 1 << 20);
    ASSERT_TRUE(first.ok());
    ASSERT_EQ(*first, std::vector<std::string>{"one"});
    ASSERT_TRUE((*spool)->Consume(1).ok());
  }
  auto reopened = Spool::Open(path_);
  ASSERT_TRUE(reopened.ok()) << reopened.status();
  EXPECT_EQ((*reopened)->pending(), 2u);
  auto rest = (*reopened)->Peek(10, 1 << 20);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, (std::vector<std::string>{"two", "three"}));
}

TEST_F(SpoolTest, PeekWithoutConsumeRereadsTheSameRecords) {
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append({"a", "b", "c"}).ok());
  auto once = (*spool)->Peek(2, 1 << 20);
  auto twice = (*spool)->Peek(2, 1 << 20);
  ASSERT_TRUE(once.ok() && twice.ok());
  EXPECT_EQ(*once, *twice);
  EXPECT_EQ((*spool)->pending(), 3u);
}

TEST_F(SpoolTest, FullyConsumedFileIsTruncatedAndReusable) {
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append({std::string(1000, 'x'), "y"}).ok());
  EXPECT_GT(FileSize(), 1000);
  ASSERT_TRUE((*spool)->Peek(10, 1 << 20).ok());
  ASSERT_TRUE((*spool)->Consume(2).ok());
  EXPECT_EQ(FileSize(), 0);
  EXPECT_EQ((*spool)->pending(), 0u);
  ASSERT_TRUE((*spool)->Append({"z"}).ok());
  auto again = (*spool)->Peek(10, 1 << 20);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, std::vector<std::string>{"z"});
}

TEST_F(SpoolTest, TornTailIsCutOffOnOpen) {
  {
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE((*spool)->Append({"complete", "also complete"}).ok());
  }
  const off_t whole = FileSize();
  {
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE((*spool)->Append({"a third record, torn by a crash"}).ok());
  }
  const std::string full = ReadFile(path_).value();
  // A crash in the middle of writing the third record: inside its header, or
  // one byte short of its end.
  for (off_t cut : {whole + 3, whole + 10, static_cast<off_t>(full.size()) - 1}) {
    SCOPED_TRACE(cut);
    WriteFile(path_, full.substr(0, static_cast<size_t>(cut)));
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    EXPECT_EQ((*spool)->pending(), 2u);
    EXPECT_EQ((*spool)->corrupt_records(), 0u);  // torn, not corrupt
    EXPECT_EQ(FileSize(), whole);
    auto records = (*spool)->Peek(10, 1 << 20);
    ASSERT_TRUE(records.ok());
    EXPECT_EQ(*records, (std::vector<std::string>{"complete", "also complete"}));
  }
}

TEST_F(SpoolTest, CorruptRecordIsCutOffNotReplayedAsGarbage) {
  {
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE((*spool)->Append({"good", "flipped"}).ok());
  }
  {
    // Flip the last payload byte of the second record.
    int fd = open(path_.c_str(), O_RDWR);
    off_t size = lseek(fd, 0, SEEK_END);
    char c = 0;
    pread(fd, &c, 1, size - 1);
    c ^= 0x55;
    pwrite(fd, &c, 1, size - 1);
    close(fd);
  }
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok());
  EXPECT_EQ((*spool)->pending(), 1u);
  EXPECT_EQ((*spool)->corrupt_records(), 1u);
  auto records = (*spool)->Peek(10, 1 << 20);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, std::vector<std::string>{"good"});
}

// Review 2026-12 #15: the first bad record used to end the walk and every
// record after it was truncated away, uncounted.
TEST_F(SpoolTest, CorruptRecordInTheMiddleCostsThatRecordOnly) {
  WriteFive();
  const off_t charlie = Find("charlie-record");
  ASSERT_GT(charlie, 0);
  FlipByte(charlie + 3);
  for (int pass = 0; pass < 2; ++pass) {  // the records after it stay in the file
    SCOPED_TRACE(pass);
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    EXPECT_EQ((*spool)->corrupt_records(), 1u);
    EXPECT_EQ((*spool)->pending(), 4u);
    EXPECT_EQ(Pending(**spool), (std::vector<std::string>{"alpha-record", "bravo-record",
                                                          "delta-record", "echo-record"}));
    EXPECT_EQ((*spool)->corrupt_records(), 1u);  // met again by Peek, counted once
  }
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Peek(100, 1 << 20).ok());
  ASSERT_TRUE((*spool)->Consume(4).ok());
  EXPECT_EQ((*spool)->pending(), 0u);
  EXPECT_EQ(FileSize(), 0);
}

TEST_F(SpoolTest, DestroyedRecordHeaderInTheMiddleCostsThatRecordOnly) {
  WriteFive();
  // Everything between the end of bravo's payload and the 5th byte of
  // charlie's: charlie's whole header (its length too) and some payload.
  const off_t bravo_end =
      Find("bravo-record") + static_cast<off_t>(std::string("bravo-record").size());
  const off_t charlie = Find("charlie-record");
  ASSERT_GT(charlie, bravo_end);
  Overwrite(bravo_end, std::string(static_cast<size_t>(charlie + 4 - bravo_end), '\xff'));
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_EQ((*spool)->corrupt_records(), 1u);
  EXPECT_EQ((*spool)->pending(), 4u);
  EXPECT_EQ(Pending(**spool), (std::vector<std::string>{"alpha-record", "bravo-record",
                                                        "delta-record", "echo-record"}));
}

TEST_F(SpoolTest, CorruptFirstRecordCostsThatRecordOnly) {
  WriteFive();
  const off_t alpha = Find("alpha-record");
  ASSERT_GE(alpha, 0);
  FlipByte(alpha + 4);
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_EQ((*spool)->corrupt_records(), 1u);
  EXPECT_EQ((*spool)->pending(), 4u);
  EXPECT_EQ(Pending(**spool), (std::vector<std::string>{"bravo-record", "charlie-record",
                                                        "delta-record", "echo-record"}));
}

// The review's demonstration flipped byte 12 of a spool file; any one byte at
// the start of the file (the file header) costs nothing.
TEST_F(SpoolTest, FlippedByteAtTheStartOfTheFileLosesNoRecord) {
  WriteFive();
  const std::string intact = ReadFile(path_).value();
  for (off_t at = 0; at < 64; ++at) {
    SCOPED_TRACE(at);
    WriteFile(path_, intact);
    FlipByte(at);
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    EXPECT_EQ((*spool)->pending(), 5u);
    EXPECT_EQ(Pending(**spool), Five());
  }
}

TEST_F(SpoolTest, CorruptionAfterOpenIsSkippedByPeek) {
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append(Five()).ok());
  FlipByte(Find("delta-record"));
  EXPECT_EQ(Pending(**spool), (std::vector<std::string>{"alpha-record", "bravo-record",
                                                        "charlie-record", "echo-record"}));
  EXPECT_EQ((*spool)->corrupt_records(), 1u);
  EXPECT_EQ((*spool)->pending(), 4u);
  ASSERT_TRUE((*spool)->Consume(4).ok());
  EXPECT_EQ((*spool)->pending(), 0u);
  EXPECT_EQ(FileSize(), 0);
}

// Review 2026-12 #15: a ".offset" left behind when the spool file was
// recreated (the exporter removed an unreadable spool but kept its offset)
// was applied to the new file, landed inside a record, and everything was
// cut.
TEST_F(SpoolTest, StaleOffsetOfAnEarlierSpoolFileSkipsNothing) {
  {
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE((*spool)->Append({"old-1", "old-2", "old-3"}).ok());
    ASSERT_TRUE((*spool)->Peek(2, 1 << 20).ok());
    ASSERT_TRUE((*spool)->Consume(2).ok());
  }
  const std::optional<std::string> stale = ReadFile(path_ + ".offset");
  ASSERT_TRUE(stale.has_value());
  ASSERT_EQ(std::remove(path_.c_str()), 0);  // the spool file is recreated; its offset stays
  const std::vector<std::string> fresh = {"new-record-1", "new-record-2", "new-record-3",
                                          "new-record-4"};
  {
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    EXPECT_EQ((*spool)->pending(), 0u);
    ASSERT_TRUE((*spool)->Append(fresh).ok());
    // Killed before anything is consumed.
  }
  WriteFile(path_ + ".offset", stale);  // whatever Open did with it, it is back
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_EQ((*spool)->pending(), 4u);
  EXPECT_EQ(Pending(**spool), fresh);
}

// Review 2026-12 #15: Consume truncated the file before it wrote the new
// offset, so a SIGKILL in between left an empty file with the offset of the
// old one, which later cut the events spooled after the restart. A SIGKILL
// anywhere inside Consume leaves each of the two files as it was before or
// as it is after (or, for the offset, written while the truncation has not
// happened yet): every mix replays at worst records already delivered again,
// and loses none spooled later.
TEST_F(SpoolTest, KillInsideConsumeReplaysAtWorstDuplicatesAndLosesNothing) {
  {
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok());
    ASSERT_TRUE((*spool)->Append({"a", "b", "c"}).ok());
    ASSERT_TRUE((*spool)->Peek(1, 1 << 20).ok());
    ASSERT_TRUE((*spool)->Consume(1).ok());
  }
  const std::optional<std::string> spool_before = ReadFile(path_);
  const std::optional<std::string> offset_before = ReadFile(path_ + ".offset");
  ASSERT_TRUE(spool_before.has_value() && offset_before.has_value());
  {
    // "b" and "c" are delivered: everything is consumed.
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok());
    auto records = (*spool)->Peek(10, 1 << 20);
    ASSERT_TRUE(records.ok());
    ASSERT_EQ(*records, (std::vector<std::string>{"b", "c"}));
    ASSERT_TRUE((*spool)->Consume(2).ok());
  }
  const std::optional<std::string> spool_after = ReadFile(path_);
  const std::optional<std::string> offset_after = ReadFile(path_ + ".offset");
  // The offset file names the read position last: the same file, with the
  // position at its end (written, the truncation not done yet).
  std::string offset_at_end = *offset_before;
  offset_at_end.erase(offset_at_end.find_last_not_of(" \n") + 1);
  offset_at_end.erase(offset_at_end.find_last_of(' ') + 1);  // npos + 1 == 0: nothing else
  offset_at_end += std::to_string(spool_before->size()) + "\n";

  const std::vector<std::string> later = {"later-record-d", "later-record-e", "later-record-f"};
  auto with_later = [&](std::vector<std::string> replayed) {
    replayed.insert(replayed.end(), later.begin(), later.end());
    return replayed;
  };
  struct Case {
    const char* name;
    std::optional<std::string> spool;
    std::optional<std::string> offset;
    std::vector<std::string> expected;
  };
  const std::vector<Case> cases = {
      {"killed before Consume", spool_before, offset_before, with_later({"b", "c"})},
      {"offset written, file not truncated", spool_before, offset_at_end, later},
      {"file truncated, offset of before", spool_after, offset_before, later},
      {"file before, offset of after", spool_before, offset_after, with_later({"a", "b", "c"})},
      {"Consume done", spool_after, offset_after, later},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    WriteFile(path_, c.spool);
    WriteFile(path_ + ".offset", c.offset);
    std::remove((path_ + ".offset.tmp").c_str());
    {
      // The process comes back, spools more while the log is still away, and
      // is killed again.
      auto spool = Spool::Open(path_);
      ASSERT_TRUE(spool.ok()) << spool.status();
      ASSERT_TRUE((*spool)->Append(later).ok());
    }
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    EXPECT_EQ(Pending(**spool), c.expected);
    EXPECT_EQ((*spool)->pending(), c.expected.size());
  }
}

TEST_F(SpoolTest, UnknownFormatVersionIsMovedAsideNeverDeleted) {
  const std::string future = std::string("SHSPOOL\x07") + std::string(100, 'x');
  WriteFile(path_, future);
  WriteFile(path_ + ".offset", std::string("7 whatever 80\n"));
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_EQ((*spool)->pending(), 0u);
  EXPECT_EQ((*spool)->corrupt_records(), 1u);
  EXPECT_EQ(ReadFile(path_ + ".corrupt-1"), future);
  EXPECT_EQ(ReadFile(path_ + ".corrupt-1.offset"), std::string("7 whatever 80\n"));
  EXPECT_EQ(FileSize(), 0);
  EXPECT_FALSE(ReadFile(path_ + ".offset").has_value());
  ASSERT_TRUE((*spool)->Append({"after"}).ok());
  auto records = (*spool)->Peek(10, 1 << 20);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, std::vector<std::string>{"after"});
}

// The format before version 2: u32 length, u32 FNV-1a, payload; no header.
TEST_F(SpoolTest, SpoolOfTheEarlierFormatIsReplayedFromItsStart) {
  auto legacy_record = [](const std::string& payload) {
    uint32_t hash = 2166136261u;
    for (unsigned char c : payload) {
      hash ^= c;
      hash *= 16777619u;
    }
    std::string out;
    for (uint32_t v : {static_cast<uint32_t>(payload.size()), hash}) {
      for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
    }
    return out + payload;
  };
  WriteFile(path_, legacy_record("one") + legacy_record("two") + legacy_record("three"));
  WriteFile(path_ + ".offset", std::string("11\n"));  // "one" was delivered, or not: unknowable
  {
    auto spool = Spool::Open(path_);
    ASSERT_TRUE(spool.ok()) << spool.status();
    EXPECT_EQ((*spool)->pending(), 3u);
    EXPECT_EQ((*spool)->corrupt_records(), 0u);
    auto records = (*spool)->Peek(10, 1 << 20);
    ASSERT_TRUE(records.ok());
    EXPECT_EQ(*records, (std::vector<std::string>{"one", "two", "three"}));
    ASSERT_TRUE((*spool)->Consume(1).ok());
  }
  EXPECT_FALSE(ReadFile(path_ + ".corrupt-1").has_value());
  auto spool = Spool::Open(path_);  // now in the current format
  ASSERT_TRUE(spool.ok()) << spool.status();
  auto records = (*spool)->Peek(10, 1 << 20);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, (std::vector<std::string>{"two", "three"}));
}

TEST_F(SpoolTest, ResetMovesTheFileAsideWithItsOffsetAndStartsEmpty) {
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append({"x", "y"}).ok());
  ASSERT_TRUE((*spool)->Peek(1, 1 << 20).ok());
  ASSERT_TRUE((*spool)->Consume(1).ok());
  ASSERT_TRUE((*spool)->Reset().ok());
  EXPECT_EQ((*spool)->pending(), 0u);
  EXPECT_EQ(FileSize(), 0);
  EXPECT_FALSE(ReadFile(path_ + ".offset").has_value());
  ASSERT_TRUE((*spool)->Append({"z"}).ok());
  auto records = (*spool)->Peek(10, 1 << 20);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, std::vector<std::string>{"z"});
  // What was moved aside is still a spool, for a replay by hand.
  auto kept = Spool::Open(path_ + ".corrupt-1");
  ASSERT_TRUE(kept.ok()) << kept.status();
  auto rest = (*kept)->Peek(10, 1 << 20);
  ASSERT_TRUE(rest.ok());
  EXPECT_EQ(*rest, std::vector<std::string>{"y"});
}

TEST_F(SpoolTest, PeekHonoursTheByteBudget) {
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE(
      (*spool)->Append({std::string(600, 'a'), std::string(600, 'b'), std::string(600, 'c')}).ok());
  auto records = (*spool)->Peek(100, 1000);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(records->size(), 2u);  // stops once the budget is passed
}

TEST_F(SpoolTest, ConsumingMoreThanPeekedIsRefused) {
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok());
  ASSERT_TRUE((*spool)->Append({"a"}).ok());
  EXPECT_EQ((*spool)->Consume(1).code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(SpoolTest, UnwritableDirectoryIsAClearError) {
  auto spool = Spool::Open(dir_ + "/missing/dir/audit.spool");
  ASSERT_FALSE(spool.ok());
  EXPECT_NE(spool.status().message().find("missing/dir"), std::string::npos);
}

}  // namespace
}  // namespace shop
