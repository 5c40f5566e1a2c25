#ifndef SAMPLE_HPP
#define SAMPLE_HPP
#include <string>

namespace geo {
// Scale every element in place.
template <typename T>
void scale(T* data, int length, T factor);

int* find_all(const int* data, int length);

template <typename T> T pick(T a, T b);

class Registry {
 public:
  static Registry* instance();
  const std::string& name() const;
  template <typename V> void visit(V visitor);
};
}

const char** names_of(int kind);
std::string& last_error();
template <typename K> K first_key();

#endif
