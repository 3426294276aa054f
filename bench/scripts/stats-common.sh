# Sourced by the bench scripts: medians and ratios of whitespace-separated figures ("nan" = a
# rejected or failed run, left out of medians and giving "nan" ratios).
#   median          stdin, one number per line -> the median ("nan" when none)
#   med "A B C"     the median of a list
#   div A B         A / B with 2 decimals, "nan" unless both are positive numbers
#   ns MPPS         nanoseconds per packet at MPPS million packets per second
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print a[(NR + 1) / 2]; else printf "%.3f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
med() { echo "$1" | tr ' ' '\n' | { grep -v -e '^$' -e nan || true; } | median; }
div() { awk -v a="$1" -v b="$2" 'BEGIN { if (a != "nan" && b != "nan" && b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "nan" }'; }
ns() { awk -v m="$1" 'BEGIN { if (m != "nan" && m + 0 > 0) printf "%.1f", 1e3 / m; else print "nan" }'; }
