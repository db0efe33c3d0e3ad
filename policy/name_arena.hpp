// Names of one statement kept one after the other: in the object's own storage while
// they fit, on the heap beyond. Copying a name here costs a few instructions where a
// std::string costs a construction, a move and a destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>

#include <boost/container/small_vector.hpp>

#include "policy/short_copy.hpp"

namespace djproxy::policy {

class NameArena {
 public:
  NameArena() = default;
  NameArena(const NameArena&) = delete;
  NameArena& operator=(const NameArena&) = delete;

  const char* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  void clear() noexcept { size_ = 0; }
  void shrink(std::size_t n) noexcept { size_ = n < size_ ? n : size_; }
  void append(const char* p, std::size_t n) {
    if (n > cap_ - size_) grow(size_ + n);
    copy_short(data_ + size_, p, n);
    size_ += n;
  }

 private:
  void grow(std::size_t need) {
    std::size_t cap = cap_;
    while (cap < need) cap *= 2;
    auto bigger = std::make_unique_for_overwrite<char[]>(cap);
    std::memcpy(bigger.get(), data_, size_);
    heap_ = std::move(bigger);
    data_ = heap_.get();
    cap_ = cap;
  }

  char inline_[2048];
  std::unique_ptr<char[]> heap_;
  char* data_ = inline_;
  std::size_t size_ = 0;
  std::size_t cap_ = sizeof inline_;
};

// A list of names in an arena of its own, compared as bytes.
template <std::size_t N>
class NameList {
 public:
  std::size_t size() const noexcept { return spans_.size(); }
  std::string_view operator[](std::size_t i) const noexcept {
    return {arena_.data() + spans_[i].off, spans_[i].len};
  }
  bool contains(std::string_view name) const noexcept {
    for (const Span& s : spans_)
      if (s.len == name.size() && std::memcmp(arena_.data() + s.off, name.data(), s.len) == 0) return true;
    return false;
  }
  void push_back(std::string_view name) {
    spans_.push_back(Span{static_cast<std::uint32_t>(arena_.size()), static_cast<std::uint32_t>(name.size())});
    arena_.append(name.data(), name.size());
  }

 private:
  struct Span {
    std::uint32_t off = 0;
    std::uint32_t len = 0;
  };
  NameArena arena_;
  boost::container::small_vector<Span, N> spans_;
};

}  // namespace djproxy::policy
