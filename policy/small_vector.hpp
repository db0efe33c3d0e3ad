// A vector that keeps its first N elements inside the object: the reader's
// per-statement lists (parenthesis frames, declared names) almost always stay
// small, and the analyser must not pay a heap allocation for each of them.
#pragma once

#include <array>
#include <cstddef>
#include <utility>
#include <vector>

namespace djproxy::policy {

template <class T, std::size_t N>
class SmallVector {
 public:
  SmallVector() = default;
  // data_ points into the object itself: copying would need care nobody needs.
  SmallVector(const SmallVector&) = delete;
  SmallVector& operator=(const SmallVector&) = delete;

  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }

  T* begin() noexcept { return data(); }
  T* end() noexcept { return data() + size_; }
  const T* begin() const noexcept { return data(); }
  const T* end() const noexcept { return data() + size_; }

  T& operator[](std::size_t i) noexcept { return data()[i]; }
  const T& operator[](std::size_t i) const noexcept { return data()[i]; }
  T& back() noexcept { return data()[size_ - 1]; }
  const T& back() const noexcept { return data()[size_ - 1]; }

  void push_back(T value) {
    if (heap_.empty()) {
      if (size_ < N) {
        inline_[size_++] = std::move(value);
        return;
      }
      // Spill once: from here on every element lives on the heap.
      heap_.reserve(2 * N);
      for (T& x : inline_) heap_.push_back(std::move(x));
    }
    heap_.push_back(std::move(value));
    data_ = heap_.data();
    ++size_;
  }

  void pop_back() {
    --size_;
    if (!heap_.empty()) {
      heap_.pop_back();
      data_ = heap_.empty() ? inline_.data() : heap_.data();
    }
  }

 private:
  T* data() noexcept { return data_; }
  const T* data() const noexcept { return data_; }

  std::array<T, N> inline_{};
  std::vector<T> heap_;
  T* data_ = inline_.data();
  std::size_t size_ = 0;
};

}  // namespace djproxy::policy
