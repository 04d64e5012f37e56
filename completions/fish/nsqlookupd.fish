# fish completion for nsqlookupd
# No operands: files only where an option takes one (-F).
complete -c nsqlookupd -f
complete -c nsqlookupd -l broadcast-address -x -d 'address of this lookupd node'
complete -c nsqlookupd -l config -s c -r -F -d 'read options from a config file'
complete -c nsqlookupd -l http-address -x -d '<addr>:<port> to listen on for HTTP clients'
complete -c nsqlookupd -l inactive-producer-timeout -x -d 'time a producer stays in the active list after its last ping'
complete -c nsqlookupd -l log-level -s l -x -a 'debug info warn error fatal' -d 'debug, info, warn, error or fatal'
complete -c nsqlookupd -l log-prefix -x -d 'log message prefix'
complete -c nsqlookupd -l tcp-address -x -d '<addr>:<port> to listen on for TCP clients'
complete -c nsqlookupd -l tombstone-lifetime -x -d 'time a producer stays tombstoned'
complete -c nsqlookupd -l verbose -d '[deprecated] has no effect, use --log-level'
complete -c nsqlookupd -l version -s V -d 'print the version and exit'
complete -c nsqlookupd -l help -s h -d 'print the options and exit'
