# bash completion for slicevm(1): commands, host commands, the options of
# each, files where a command takes one, the names of running VMs (from
# 'slicevm ls --json') for stop, console and stats, and run --net's keys
# with the host's tap interfaces.
# shellcheck shell=bash

_slicevm_vm_names()
{
	"${1:-slicevm}" ls --json 2>/dev/null |
		sed -n 's/^ *"name" *: *"\([^"]*\)".*/\1/p'
}

# The host's tap interfaces: tun devices whose tun_flags have IFF_TAP (0x2).
_slicevm_taps()
{
	local dev flags
	for dev in /sys/class/net/*; do
		[[ -r $dev/tun_flags ]] || continue
		flags=$(<"$dev/tun_flags") 2>/dev/null || continue
		[[ $flags == 0x+([[:xdigit:]]) ]] && ((flags & 0x2)) && printf '%s\n' "${dev##*/}"
	done
}

# --net tap=NAME[,mac=MAC][,vhost=on|off], @1 the whole word so far: the
# keys not given yet, tap names, vhost's values.
_slicevm_net()
{
	local word=$1 head="" last=$1 key keys="" i
	if [[ $word == *,* ]]; then
		head=${word%,*},
		last=${word##*,}
	fi
	case $last in
	tap=*)
		COMPREPLY=($(compgen -P "${head}tap=" -W "$(_slicevm_taps)" -- "${last#tap=}")) ;;
	vhost=*)
		COMPREPLY=($(compgen -P "${head}vhost=" -W "on off" -- "${last#vhost=}")) ;;
	*=*) ;;
	*)
		if [[ -z $head ]]; then
			keys="tap= $(_slicevm_taps | sed 's/^/tap=/')"
		else
			for key in tap mac vhost; do
				[[ ,$head == *,$key=* ]] || keys+=" $key="
			done
		fi
		COMPREPLY=($(compgen -P "$head" -W "$keys" -- "$last")) ;;
	esac
	compopt -o nospace 2>/dev/null
	# Bash replaces only what follows the word's last COMP_WORDBREAKS
	# character ('=', ':'): give it just that part.
	for ((i = ${#word} - 1; i >= 0; i--)); do
		[[ $COMP_WORDBREAKS == *"${word:i:1}"* ]] && break
	done
	if ((i >= 0)); then
		for key in "${!COMPREPLY[@]}"; do
			COMPREPLY[key]=${COMPREPLY[key]#"${word:0:i+1}"}
		done
	fi
}

_slicevm()
{
	local cur prev words cword
	if declare -F _init_completion >/dev/null; then
		_init_completion -s || return
	else
		cur=${COMP_WORDS[COMP_CWORD]}
		prev=${COMP_WORDS[COMP_CWORD - 1]}
		words=("${COMP_WORDS[@]}")
		cword=$COMP_CWORD
	fi

	local cmds="run host ls stop console stats version help"
	local host_cmds="probe plan apply release bootargs status check"
	local cmd="" sub="" i nargs=0 opts=""

	# The command, the host command, and how many arguments follow them.
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		-* | [=:]) continue ;;
		esac
		# a piece of a word split at a COMP_WORDBREAKS character (a MAC's ':')
		[[ ${words[i - 1]} == [=:] ]] && continue
		if [[ -z $cmd ]]; then
			cmd=${words[i]}
		elif [[ $cmd == host && -z $sub ]]; then
			sub=${words[i]}
		else
			case ${words[i - 1]} in
			--kernel | -k | --initrd | -i | --cmdline | -p | --cpus | -c | \
			--memory | -m | --slice | --name | --log | --disk | --net | --device | --direct | \
			--timeout | -t | --topology | --ledger | --grub-dropin) ;;
			*) nargs=$((nargs + 1)) ;;
			esac
		fi
	done

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return
	fi

	# --net's value, rejoined where COMP_WORDBREAKS split it.
	if [[ $cmd == run ]]; then
		local j=$cword whole=$cur owner=$prev
		while ((j > 1)) && [[ ${words[j]} == [=:] || ${words[j - 1]} == [=:] ]]; do
			j=$((j - 1))
			whole=${words[j]}$whole
		done
		((j < cword)) && owner=${words[j - 1]}
		if [[ $whole == --net=* ]]; then
			owner=--net
			whole=${whole#--net=}
		fi
		if [[ $owner == --net ]]; then
			_slicevm_net "$whole"
			return
		fi
	fi

	# Options that take a value.
	case $prev in
	--kernel | -k | --initrd | -i | --log | --disk | --ledger | --grub-dropin)
		COMPREPLY=($(compgen -f -- "$cur"))
		compopt -o filenames 2>/dev/null
		return ;;
	--topology)
		COMPREPLY=($(compgen -f -X '!*.xml' -- "$cur") $(compgen -d -- "$cur")
			   $(compgen -W "synthetic:" -- "$cur"))
		compopt -o filenames 2>/dev/null
		return ;;
	--cmdline | -p | --cpus | -c | --memory | -m | --slice | --name | \
	--timeout | -t)
		return ;;
	--direct)
		# a comma-separated list: the name after the last comma, of those not given
		local pre="" f left=""
		[[ $cur == *,* ]] && pre=${cur%,*},
		for f in timer pmu irq ipi; do
			[[ ,$pre == *,$f,* ]] || left+=" $f"
		done
		COMPREPLY=($(compgen -P "$pre" -W "$left" -- "${cur##*,}"))
		return ;;
	--device)
		# the functions a slice's apply gave to vfio-pci
		local d devs=""
		for d in /sys/bus/pci/drivers/vfio-pci/*:*; do
			[[ -e $d ]] && devs+=" ${d##*/}"
		done
		COMPREPLY=($(compgen -W "$devs" -- "$cur"))
		return ;;
	esac

	case $cmd in
	run)
		opts="--kernel --initrd --cmdline --cpus --memory --slice --name --device
		      --direct --disk --net --detach --log --pvh --help"
		if [[ $cur != -* && $nargs -eq 0 ]]; then
			COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
			compopt -o filenames 2>/dev/null
			return
		fi ;;
	host)
		if [[ -z $sub ]]; then
			COMPREPLY=($(compgen -W "$host_cmds --help" -- "$cur"))
			return
		fi
		case $sub in
		probe) opts="--json --topology --help" ;;
		plan) opts="--json --topology --help" ;;
		apply) opts="--ledger --topology --force --help" ;;
		release) opts="--ledger --force --help" ;;
		bootargs) opts="--ledger --topology --grub-dropin --help" ;;
		status) opts="--ledger --json --help" ;;
		check) opts="--ledger --topology --json --help" ;;
		esac
		case $sub in
		plan | apply | bootargs | check)
			if [[ $cur != -* && $nargs -eq 0 ]]; then
				COMPREPLY=($(compgen -f -X '!*.json' -- "$cur") $(compgen -d -- "$cur"))
				compopt -o filenames 2>/dev/null
				return
			fi ;;
		esac ;;
	ls) opts="--json --help" ;;
	stop | console | stats)
		case $cmd in
		stop) opts="--timeout --force --help" ;;
		console) opts="--help" ;;
		stats) opts="--watch --watch= --json --all --vcpus --help" ;;
		esac
		if [[ $cur != -* && $nargs -eq 0 ]]; then
			COMPREPLY=($(compgen -W "$(_slicevm_vm_names "${words[0]}")" -- "$cur"))
			return
		fi ;;
	esac
	COMPREPLY=($(compgen -W "$opts" -- "$cur"))
	[[ ${COMPREPLY[0]-} == *= ]] && compopt -o nospace 2>/dev/null
}

complete -F _slicevm slicevm
