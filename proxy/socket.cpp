#include "proxy/socket.hpp"

#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "proxy/event_loop.hpp"

namespace djproxy::proxy {

namespace {
ErrorCode system_error(int e) { return ErrorCode(e, boost::system::system_category()); }
}  // namespace

void Socket::adopt(int fd) {
  close();
  loop_.add(fd, *this);  // throws std::system_error, leaving the descriptor to the caller
  fd_ = fd;
  readable_ = true;  // bytes may have come before the registration's first edge
  hung_up_ = false;
}

void Socket::close() {
  if (fd_ < 0) return;
  // No EPOLL_CTL_DEL: close(2) removes the only descriptor of the file from the epoll
  // set, and a stale event for the number in the same batch finds no socket, or a new
  // one that then tries one read too many.
  loop_.remove(fd_);
  ::close(fd_);
  fd_ = -1;
  readable_ = false;
  const ErrorCode aborted = asio::error::operation_aborted;
  if (reader_ != nullptr) {
    reader_->error = aborted;
    loop_.ready(std::exchange(reader_, nullptr)->waiting);
  }
  if (read_edge_ != nullptr) {
    read_edge_->error = aborted;
    loop_.ready(std::exchange(read_edge_, nullptr)->waiting);
  }
  if (write_edge_ != nullptr) {
    write_edge_->error = aborted;
    loop_.ready(std::exchange(write_edge_, nullptr)->waiting);
  }
  if (watch_) loop_.call([f = std::exchange(watch_, nullptr)] { f(asio::error::operation_aborted); });
}

bool Socket::Read::await_ready() {
  if (socket.fd_ < 0) {
    error = asio::error::operation_aborted;
    return true;
  }
  if (size == 0) return true;  // as Asio: nothing asked, nothing read
  return socket.readable_ && attempt();
}

bool Socket::Read::attempt() {
  for (;;) {
    const ssize_t n = ::recv(socket.fd_, data, size, 0);
    if (n > 0) {
      count = static_cast<std::size_t>(n);
      if (count < size && !socket.hung_up_) socket.readable_ = false;  // drained
      return true;
    }
    if (n == 0) {
      error = asio::error::eof;
      return true;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      socket.readable_ = false;
      return false;
    }
    error = system_error(errno);
    return true;
  }
}

std::size_t Socket::write_some(std::span<const asio::const_buffer> buffers, ErrorCode& error) {
  error.clear();
  if (fd_ < 0) {
    error = asio::error::bad_descriptor;
    return 0;
  }
  constexpr std::size_t kMaxIov = 64;
  iovec iov[kMaxIov];
  std::size_t count = 0;
  for (const auto& b : buffers) {
    if (count == kMaxIov) break;
    if (b.size() == 0) continue;
    iov[count].iov_base = const_cast<void*>(b.data());
    iov[count].iov_len = b.size();
    ++count;
  }
  if (count == 0) return 0;
  msghdr message{};
  message.msg_iov = iov;
  message.msg_iovlen = count;
  for (;;) {
    const ssize_t n = ::sendmsg(fd_, &message, MSG_NOSIGNAL);
    if (n >= 0) return static_cast<std::size_t>(n);
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) error = system_error(errno);
    return 0;
  }
}

void Socket::watch_readable(std::function<void(const ErrorCode&)> f) {
  if (fd_ < 0) {
    loop_.call([f = std::move(f)] { f(asio::error::operation_aborted); });
    return;
  }
  if (readable_) {
    loop_.call([f = std::move(f)] { f(ErrorCode()); });
    return;
  }
  watch_ = std::move(f);
}

ssize_t Socket::peek() {
  char byte = 0;
  const ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) readable_ = false;
  return n;
}

// Only marks and queues: a coroutine resumed here could free this socket while the loop
// still walks the batch of events.
void Socket::on_event(std::uint32_t events) {
  // Urgent data (MSG_OOB) stops a read at its mark: a short read then leaves bytes
  // behind, announced by no further edge. A client that sends it is read as one that has
  // hung up, every read tried (review round 32).
  if ((events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI)) != 0) hung_up_ = true;
  if ((events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI)) != 0) {
    readable_ = true;
    if (reader_ != nullptr && reader_->attempt()) loop_.ready(std::exchange(reader_, nullptr)->waiting);
    if (read_edge_ != nullptr) loop_.ready(std::exchange(read_edge_, nullptr)->waiting);
    if (watch_ && readable_) loop_.call([f = std::exchange(watch_, nullptr)] { f(ErrorCode()); });
  }
  if ((events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) != 0 && write_edge_ != nullptr)
    loop_.ready(std::exchange(write_edge_, nullptr)->waiting);
}

}  // namespace djproxy::proxy
