# shellcheck shell=sh
# apt-fetch.sh: fetching Debian packages without installing them. Sourced
# (POSIX sh) by scripts/build-kvm.sh and tests/lab/qemu-backports.sh; the
# sourcing script defines say() (one line to stderr, its own prefix).
#
#   apt_fetch DIR PACKAGE VERSION [APT-OPTION...]
#       Prints the path of PACKAGE's .deb at VERSION in DIR, downloading it
#       there with `apt-get download` first when it is not there yet. The
#       APT-OPTIONs (e.g. -o Dir::Etc::SourceList=FILE ...) go to apt-get,
#       for packages from lists other than the machine's. apt-get's own
#       output goes to stderr. On failure says why and returns 1.
#   apt_deb_name PACKAGE VERSION
#       The file name pattern apt-get download gives that package:
#       PACKAGE_VERSION_*.deb, an epoch's ':' written as '%3a'
#       (1:10.0.2 -> 1%3a10.0.2).

apt_deb_name() {
	printf '%s_%s_*.deb\n' "$1" "$(printf '%s' "$2" | sed 's/:/%3a/g')"
}

apt_fetch() {
	_af_dir=$1
	_af_pkg=$2
	_af_ver=$3
	shift 3
	_af_pat=$(apt_deb_name "$_af_pkg" "$_af_ver")
	# (The pattern has no spaces; it must glob here.)
	# shellcheck disable=SC2086
	_af_f=$(ls "$_af_dir"/$_af_pat 2>/dev/null | head -n 1 || true)
	if [ -z "$_af_f" ]; then
		say "downloading $_af_pkg $_af_ver"
		# As root apt drops to the _apt user for downloads, which cannot
		# write a directory of ours: stay root.
		_af_sandbox=""
		[ "$(id -u)" -eq 0 ] && _af_sandbox="-o APT::Sandbox::User=root"
		# shellcheck disable=SC2086
		if ! (cd "$_af_dir" && apt-get download -q $_af_sandbox "$@" "$_af_pkg=$_af_ver" >&2); then
			say "apt-get download $_af_pkg=$_af_ver failed"
			return 1
		fi
		# shellcheck disable=SC2086
		_af_f=$(ls "$_af_dir"/$_af_pat 2>/dev/null | head -n 1 || true)
		if [ -z "$_af_f" ]; then
			say "apt-get download $_af_pkg=$_af_ver produced no .deb"
			return 1
		fi
	fi
	echo "$_af_f"
}
