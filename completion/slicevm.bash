# bash completion for slicevm(1): commands, host commands, the options of
# each, files where a command takes one, and the names of running VMs
# (from 'slicevm ls --json') for stop, console and stats.
# shellcheck shell=bash

_slicevm_vm_names()
{
	"${1:-slicevm}" ls --json 2>/dev/null |
		sed -n 's/^ *"name" *: *"\([^"]*\)".*/\1/p'
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
		-*) continue ;;
		esac
		if [[ -z $cmd ]]; then
			cmd=${words[i]}
		elif [[ $cmd == host && -z $sub ]]; then
			sub=${words[i]}
		else
			case ${words[i - 1]} in
			--kernel | -k | --initrd | -i | --cmdline | -p | --cpus | -c | \
			--memory | -m | --slice | --name | --log | --disk | --timeout | -t | \
			--topology | --ledger | --grub-dropin) ;;
			*) nargs=$((nargs + 1)) ;;
			esac
		fi
	done

	if [[ -z $cmd ]]; then
		COMPREPLY=($(compgen -W "$cmds --help --version" -- "$cur"))
		return
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
	esac

	case $cmd in
	run)
		opts="--kernel --initrd --cmdline --cpus --memory --slice --name
		      --disk --detach --log --pvh --help"
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
		apply) opts="--ledger --topology --help" ;;
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
