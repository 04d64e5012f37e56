# fish completion for nsq-pub
# No operands: files only where an option takes one (-F).
complete -c nsq-pub -f
complete -c nsq-pub -l batch-size -x -d 'most messages per MPUB command (1: a PUB each)'
complete -c nsq-pub -l delimiter -x -d 'byte that ends each message (default: newline)'
complete -c nsq-pub -l nsqd-tcp-address -x -d 'destination nsqd TCP address (repeatable)'
complete -c nsq-pub -l producer-opt -x -d 'go-nsq producer option KEY,VALUE (repeatable)'
complete -c nsq-pub -l rate -x -d 'most messages per second (0: no limit)'
complete -c nsq-pub -l topic -x -d 'NSQ topic to publish to'
complete -c nsq-pub -l version -s V -d 'print the version and exit'
complete -c nsq-pub -l help -s h -d 'print the options and exit'
