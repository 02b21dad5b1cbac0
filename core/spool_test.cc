#include "core/spool.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "gtest/gtest.h"

namespace shop {
namespace {

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
  off_t whole = FileSize();
  {
    // A crash in the middle of writing a third record.
    std::ofstream out(path_, std::ios::app | std::ios::binary);
    out.write("\x40\x00\x00\x00\x01\x02", 6);
  }
  auto spool = Spool::Open(path_);
  ASSERT_TRUE(spool.ok()) << spool.status();
  EXPECT_EQ((*spool)->pending(), 2u);
  EXPECT_EQ(FileSize(), whole);
  auto records = (*spool)->Peek(10, 1 << 20);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, (std::vector<std::string>{"complete", "also complete"}));
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
  auto records = (*spool)->Peek(10, 1 << 20);
  ASSERT_TRUE(records.ok());
  EXPECT_EQ(*records, std::vector<std::string>{"good"});
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
