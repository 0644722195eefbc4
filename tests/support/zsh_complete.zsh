# Prints, one a line, what zsh's completion system offers for a command line.
#   zsh tests/support/zsh_complete.zsh SCRIPT 'tierrules evaluate --f'
# A real interactive zsh runs under zpty with compinit and SCRIPT loaded (as `eval` in a
# .zshrc would); compadd is wrapped to print the matches; TAB is typed after the line.
zmodload zsh/zpty || exit 3
zpty z zsh -f -i
zpty -w z "PROMPT= RPROMPT="
zpty -w z "autoload -U compinit; compinit -u -D"
zpty -w z "eval \"\$(<${1:q})\""
zpty -w z 'compadd () {
  [[ ${@[1,(i)(-(|-)|-[a-zA-Z]#[-+:])]} == *-(O|A|D)* ]] && { builtin compadd "$@"; return $? }
  typeset -a __hits
  builtin compadd -A __hits "$@"
  local h
  for h in $__hits; do print -r -- "<<$h>>"; done
}'
zpty -w z "bindkey '^I' complete-word; zstyle ':completion:*' menu no"
zpty -w z "print SETUP''DONE"
zpty -r z line '*SETUPDONE*'
zpty -w -n z "$2"$'\t'
sleep 0.5
zpty -w z $'\C-e\C-u print END''MARK'
while zpty -r z line; do
  [[ $line == *ENDMARK* ]] && break
  [[ $line == *'<<'*'>>'* ]] && print -r -- "${${line#*<<}%%>>*}"
done
zpty -d z
