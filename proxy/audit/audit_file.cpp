#include "proxy/audit/audit_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include <spdlog/details/os.h>
#include <spdlog/sinks/rotating_file_sink.h>

namespace djproxy::audit {

AppendFile::AppendFile(std::string path, std::uint64_t rotate_size, std::uint32_t rotate_count)
    : path_(std::move(path)), rotate_size_(rotate_size), rotate_count_(rotate_count) {}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

int AppendFile::open_file() noexcept {
  if (fd_ >= 0) return 0;
  try {
    // As spdlog's file sinks did: a missing directory is created.
    spdlog::details::os::create_dir(spdlog::details::os::dir_name(path_));
  } catch (...) {
  }
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  return fd_ >= 0 ? 0 : errno;
}

void AppendFile::rotate() noexcept {
  ::close(fd_);
  fd_ = -1;
  try {
    for (auto i = rotate_count_; i > 0; --i) {
      const auto src = spdlog::sinks::rotating_file_sink_st::calc_filename(path_, i - 1);
      const auto target = spdlog::sinks::rotating_file_sink_st::calc_filename(path_, i);
      if (::access(src.c_str(), F_OK) != 0) continue;
      std::remove(target.c_str());
      std::rename(src.c_str(), target.c_str());
    }
    // No rotated copies kept: the file starts over.
    if (rotate_count_ == 0 && ::truncate(path_.c_str(), 0) != 0) {
    }
  } catch (...) {
  }
}

AppendFile::Result AppendFile::append(std::string_view lines) noexcept {
  std::size_t kept = 0;
  while (kept < lines.size()) {
    if (const int err = open_file(); err != 0) return {kept, err};
    struct stat st {};
    if (::fstat(fd_, &st) != 0) return {kept, errno};
    std::string_view piece = lines.substr(kept);
    if (rotate_size_ != 0) {
      // Rotation happens between lines: as many whole lines as fit, then a new file.
      const auto size = static_cast<std::uint64_t>(st.st_size);
      std::size_t fit = 0;
      for (std::size_t end = piece.find('\n'); end != std::string_view::npos; end = piece.find('\n', end + 1)) {
        if (size + end + 1 > rotate_size_ && !(fit == 0 && size == 0)) break;
        fit = end + 1;
      }
      if (fit == 0) {
        rotate();
        continue;
      }
      piece = piece.substr(0, fit);
    }
    const Result r = write_whole(piece, st.st_size);
    kept += r.kept;
    if (r.error != 0) return {kept, r.error};
  }
  return {kept, 0};
}

AppendFile::Result AppendFile::write_whole(std::string_view lines, off_t start) noexcept {
  if (torn_) {
    if (::write(fd_, "\n", 1) != 1) return {0, errno == 0 ? ENOSPC : errno};
    torn_ = false;
    start += 1;
  }
  std::size_t done = 0;
  int error = 0;
  while (done < lines.size()) {
    const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
    if (n > 0) {
      done += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else {
      error = n == 0 ? ENOSPC : errno;
      break;
    }
  }
  if (error == 0) return {done, 0};
  // Keep the whole lines that fit; cut what was written of the next one.
  const std::size_t last_newline = done == 0 ? std::string_view::npos : lines.substr(0, done).rfind('\n');
  const std::size_t kept = last_newline == std::string_view::npos ? 0 : last_newline + 1;
  if (kept != done && ::ftruncate(fd_, start + static_cast<off_t>(kept)) != 0) torn_ = true;
  // A file that was rotated or removed under us is opened again next time.
  ::close(fd_);
  fd_ = -1;
  return {kept, error};
}

}  // namespace djproxy::audit
