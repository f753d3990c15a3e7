// Placeholder until the command lands; replaced by its implementation.
import { CliError, type CliCommand } from '../command.js';

const command: CliCommand = {
  name: 'prune',
  summary: '(not built yet)',
  usage: 'moa-otel prune',
  async run() {
    throw new CliError('not built yet');
  },
};
export default command;
