# fish completion for nsq-pub
complete -c nsq-pub -l batch-size -r -d 'most messages per MPUB command (1: a PUB each)'
complete -c nsq-pub -l delimiter -r -d 'byte that ends each message (default: newline)'
complete -c nsq-pub -l nsqd-tcp-address -r -d 'destination nsqd TCP address (repeatable)'
complete -c nsq-pub -l producer-opt -r -d 'go-nsq producer option KEY,VALUE (repeatable)'
complete -c nsq-pub -l rate -r -d 'most messages per second (0: no limit)'
complete -c nsq-pub -l topic -r -d 'NSQ topic to publish to'
complete -c nsq-pub -l version -s V -d 'print the version and exit'
complete -c nsq-pub -l help -s h -d 'print the options and exit'
