import type { Command } from 'commander';
import { UsageError, report } from './common.js';

/** Every command path (`keys create`, …) with the options it takes. */
function commandTable(program: Command): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const walk = (cmd: Command, prefix: string) => {
    for (const sub of cmd.commands) {
      const path = prefix ? `${prefix} ${sub.name()}` : sub.name();
      out.set(path, sub.options.map((o) => o.long).filter((o): o is string => !!o));
      walk(sub, path);
    }
  };
  walk(program, '');
  return out;
}

function bashScript(program: Command): string {
  const table = commandTable(program);
  const top = program.commands.map((c) => c.name()).join(' ');
  const cases = [...table].map(([path, opts]) => {
    const subs = [...table.keys()].filter((p) => p.startsWith(`${path} `) && p.split(' ').length === path.split(' ').length + 1).map((p) => p.split(' ').at(-1));
    return `    "${path}") words="${[...subs, ...opts].join(' ')}" ;;`;
  });
  return `# baton completion for bash: eval "$(baton completion bash)" (or save it under /etc/bash_completion.d/)
_baton() {
  local cur path="" w words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for w in "\${COMP_WORDS[@]:1:COMP_CWORD-1}"; do
    case "$w" in -*) ;; *) path="\${path:+$path }$w" ;; esac
  done
  case "$path" in
    "") words="${top} --version --help" ;;
${cases.join('\n')}
    *) words="" ;;
  esac
  COMPREPLY=( $(compgen -W "$words" -- "$cur") )
  [ \${#COMPREPLY[@]} -eq 0 ] && COMPREPLY=( $(compgen -f -- "$cur") )
  return 0
}
complete -F _baton baton
`;
}

export function registerCompletion(program: Command): void {
  program
    .command('completion [shell]')
    .description('print a shell completion script (bash; zsh via bashcompinit): eval "$(baton completion bash)"')
    .action((shell: string | undefined) => {
      try {
        const sh = shell ?? 'bash';
        if (sh === 'bash') return void process.stdout.write(bashScript(program));
        if (sh === 'zsh') return void process.stdout.write(`autoload -U +X bashcompinit && bashcompinit\n${bashScript(program)}`);
        throw new UsageError(`completion ${sh}: supported shells are bash and zsh`);
      } catch (err) {
        process.exitCode = report(err);
      }
    });
}
