#pragma once
// The audit log's file: lines appended with write(2), never torn. A full disk or a
// quota cuts a batch short; what was written of a line that did not fit is cut off
// again, so the file only ever holds whole lines and the next line starts on a
// fresh one (a log shipper drops a line that is not valid JSON, and a torn line
// glued to the next one costs both).
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <string_view>

namespace djproxy::audit {

class AppendFile {
 public:
  // rotate_size 0: never rotate; otherwise path, path.1 .. path.N as spdlog names them.
  AppendFile(std::string path, std::uint64_t rotate_size, std::uint32_t rotate_count);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  struct Result {
    std::size_t kept = 0;  // bytes of `lines` now in the file: always whole lines
    int error = 0;         // errno of the failure that cut the batch short; 0: all written
  };
  // `lines` is whole lines, each ending in '\n'. Opens (creating directories) if needed.
  Result append(std::string_view lines) noexcept;

 private:
  int open_file() noexcept;
  void rotate() noexcept;
  // One write(2) loop into the open file whose size is `start`.
  Result write_whole(std::string_view lines, off_t start) noexcept;

  std::string path_;
  std::uint64_t rotate_size_;
  std::uint32_t rotate_count_;
  int fd_ = -1;
  // A cut that could not be undone (ftruncate refused) left a torn line: the next
  // write starts with '\n' so the line after it is whole.
  bool torn_ = false;
};

}  // namespace djproxy::audit
