import { registerSeCommands, registerWearableCommands } from '@amulet/wearable';
import type { Command } from 'commander';
import type { CliIo } from '../io.ts';

/**
 * `amulet se apdu|ppse` (APDUs to a fresh sandbox SE, or to a wearable over WebSocket) and
 * `amulet wearable run|trace` (the device simulator). The commands live in apps/wearable
 * (src/commands.ts), where they are tested.
 */
export function registerSe(program: Command, io: CliIo): void {
  registerSeCommands(program, io);
  registerWearableCommands(program, io);
}
