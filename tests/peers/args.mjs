// Command-line options of the peer scripts: `--name value`.

// The value after --name, or `fallback` when the option is absent.
export function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}

// The value after --name; a missing option ends the script with exit code 2.
export function requiredArg(name) {
  const value = arg(name);
  if (value === undefined) {
    console.error(`missing --${name}`);
    process.exit(2);
  }
  return value;
}
