// Placeholder until the command lands; replaced by its implementation.
import { CliError, type CliCommand } from '../command.js';

const command: CliCommand = {
  name: 'ls',
  summary: '(not built yet)',
  usage: 'moa-otel ls',
  async run() {
    throw new CliError('not built yet');
  },
};
export default command;
