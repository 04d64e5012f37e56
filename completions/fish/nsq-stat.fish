# fish completion for nsq-stat
# No operands: files only where an option takes one (-F).
complete -c nsq-stat -f
complete -c nsq-stat -l channel -x -d 'NSQ channel'
complete -c nsq-stat -l count -x -d 'number of reports'
complete -c nsq-stat -l http-client-connect-timeout -x -d 'timeout for HTTP connect'
complete -c nsq-stat -l http-client-request-timeout -x -d 'timeout for HTTP request'
complete -c nsq-stat -l interval -x -d 'time between polls and reports'
complete -c nsq-stat -l lookupd-http-address -x -d 'nsqlookupd HTTP address (repeatable)'
complete -c nsq-stat -l nsqd-http-address -x -d 'nsqd HTTP address, host:port (repeatable)'
complete -c nsq-stat -l topic -x -d 'NSQ topic'
complete -c nsq-stat -l auth-secret -x -d 'secret for nsqd\'s AUTH and HTTP Bearer authorization'
complete -c nsq-stat -l tls-ca-file -r -F -d 'CA file to verify TLS and HTTPS peers'
complete -c nsq-stat -l tls-cert -r -F -d 'client certificate for TLS and HTTPS'
complete -c nsq-stat -l tls-insecure-skip-verify -d 'do not verify TLS and HTTPS peers'
complete -c nsq-stat -l tls-key -r -F -d 'client certificate key for TLS and HTTPS'
complete -c nsq-stat -l version -s V -d 'print the version and exit'
complete -c nsq-stat -l help -s h -d 'print the options and exit'
