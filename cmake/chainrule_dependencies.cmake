# Every third-party package chainrule uses, found in one place (see docs/dependencies.md for why each is here).
find_package(Boost 1.81 REQUIRED)            # Boost.Multiprecision (header-only): mpfr_float
find_package(PkgConfig REQUIRED)
pkg_check_modules(MPFR REQUIRED IMPORTED_TARGET mpfr)
pkg_check_modules(GMP REQUIRED IMPORTED_TARGET gmp)
find_package(fmt 9 REQUIRED)
