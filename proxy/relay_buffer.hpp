#pragma once
// The one buffer type that carries bytes between the legs, used in both directions.
// Fixed capacity, allocated once per session: memory per connection stays bounded
// whatever the size of statements or results (large packets stream through it).
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>

namespace djproxy::proxy {

class RelayBuffer {
 public:
  explicit RelayBuffer(std::size_t capacity) : data_(new std::uint8_t[capacity]), capacity_(capacity) {}

  const std::uint8_t* data() const { return data_.get() + begin_; }
  std::uint8_t* data() { return data_.get() + begin_; }
  std::size_t size() const { return end_ - begin_; }
  bool empty() const { return begin_ == end_; }
  std::size_t capacity() const { return capacity_; }

  void consume(std::size_t n) {
    begin_ += n;
    if (begin_ == end_) begin_ = end_ = 0;
  }
  // Space to read into, after moving unread bytes to the front when that frees room.
  std::uint8_t* space() {
    if (begin_ > 0 && end_ == capacity_) compact();
    return data_.get() + end_;
  }
  std::size_t space_size() const { return capacity_ - end_; }
  void commit(std::size_t n) { end_ += n; }
  void compact() {
    if (begin_ == 0) return;
    std::memmove(data_.get(), data_.get() + begin_, end_ - begin_);
    end_ -= begin_;
    begin_ = 0;
  }

 private:
  std::unique_ptr<std::uint8_t[]> data_;
  std::size_t capacity_;
  std::size_t begin_ = 0;
  std::size_t end_ = 0;
};

}  // namespace djproxy::proxy
