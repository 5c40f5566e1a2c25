#include <vector>

namespace geo {
/// A circle.
class Circle : public Shape {
 public:
  double area() const;
  double radius() const { return r_; }
};
}

double geo::Circle::area() const { return 3.14 * r_ * r_; }

// Square a number.
template <typename T> T square(T x) { return x * x; }
