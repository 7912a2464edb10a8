dnl FERRY_CHECK_CFLAG(FLAG, [VARIABLE])
dnl Append FLAG to VARIABLE (default HARDEN_CFLAGS) when the compiler
dnl accepts it without a warning.
AC_DEFUN([FERRY_CHECK_CFLAG], [
	AC_MSG_CHECKING([whether $CC accepts $1])
	ferry_saved_CFLAGS="$CFLAGS"
	CFLAGS="$CFLAGS -Werror $1"
	AC_LINK_IFELSE([AC_LANG_PROGRAM([[]], [[return 0;]])],
	    [AC_MSG_RESULT([yes]); m4_default([$2], [HARDEN_CFLAGS])="$m4_default([$2], [HARDEN_CFLAGS]) $1"],
	    [AC_MSG_RESULT([no])])
	CFLAGS="$ferry_saved_CFLAGS"
])

dnl FERRY_CHECK_LDFLAG(FLAG)
dnl Append FLAG to HARDEN_LDFLAGS when the linker accepts it.
AC_DEFUN([FERRY_CHECK_LDFLAG], [
	AC_MSG_CHECKING([whether the linker accepts $1])
	ferry_saved_LDFLAGS="$LDFLAGS"
	LDFLAGS="$LDFLAGS -Werror $1"
	AC_LINK_IFELSE([AC_LANG_PROGRAM([[]], [[return 0;]])],
	    [AC_MSG_RESULT([yes]); HARDEN_LDFLAGS="$HARDEN_LDFLAGS $1"],
	    [AC_MSG_RESULT([no])])
	LDFLAGS="$ferry_saved_LDFLAGS"
])

dnl FERRY_REQUIRE_PKG(VARIABLE-PREFIX, MODULE, DEBIAN-PACKAGE)
dnl Find MODULE through pkg-config or stop with the package to install.
AC_DEFUN([FERRY_REQUIRE_PKG], [
	PKG_CHECK_MODULES([$1], [$2], [],
	    [AC_MSG_ERROR([$2 was not found by pkg-config: install the Debian package $3 (apt-get install $3)])])
])
