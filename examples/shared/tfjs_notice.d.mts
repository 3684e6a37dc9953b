/** The line printed after tfjs's Node notice. */
export const NOTICE_EXPLAINED: string;
/** On the cpu backend in Node: tfjs's notice now (first tensor), then NOTICE_EXPLAINED; else nothing. */
export function tfjsNoticeFirst(): void;
