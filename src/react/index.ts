/** `bitnet-web/react`: the `useBitNet` hook. */
export { useBitNet, optionsKey, type UseBitNetOptions, type UseBitNetResult, type BitNetStatus, type HookStream } from './use-bitnet.js';
