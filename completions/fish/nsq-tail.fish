# fish completion for nsq-tail
# No operands: files only where an option takes one (-F).
complete -c nsq-tail -f
complete -c nsq-tail -l channel -x -d 'NSQ channel (default: a new tail<6 digits>#ephemeral)'
complete -c nsq-tail -l consumer-opt -x -d 'go-nsq consumer option KEY,VALUE (repeatable)'
complete -c nsq-tail -l format -r -f -a 'text json' -d 'text (the body) or json'
complete -c nsq-tail -l lookupd-http-address -x -d 'nsqlookupd HTTP address (repeatable)'
complete -c nsq-tail -l max-in-flight -x -d 'most messages in flight per topic'
complete -c nsq-tail -l n -s n -x -d 'exit after N messages (0: never)'
complete -c nsq-tail -l nsqd-tcp-address -x -d 'nsqd TCP address (repeatable)'
complete -c nsq-tail -l print-topic -d 'print the topic before each message'
complete -c nsq-tail -l topic -x -d 'NSQ topic (repeatable)'
complete -c nsq-tail -l version -s V -d 'print the version and exit'
complete -c nsq-tail -l help -s h -d 'print the options and exit'
