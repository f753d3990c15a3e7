// Placeholder until the command lands; replaced by its implementation.
import { CliError, type CliCommand } from '../command.js';

const command: CliCommand = {
  name: 'tail',
  summary: '(not built yet)',
  usage: 'moa-otel tail',
  async run() {
    throw new CliError('not built yet');
  },
};
export default command;
