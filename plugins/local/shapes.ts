/** The layouts of the offline summaries, one per bundled summary type. */

export type Shape = 'brief' | 'detailed' | 'comprehensive' | 'action_items';

/** Types a prompt repo routes that we do not know get the middle ground. */
export function shapeOf(summaryType: string | undefined): Shape {
  switch (summaryType) {
    case 'brief':
    case 'detailed':
    case 'comprehensive':
    case 'action_items':
      return summaryType;
    default:
      return 'detailed';
  }
}
