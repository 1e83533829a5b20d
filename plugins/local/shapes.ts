/** How each summary type is shaped: how many points, and which layout. */

export type Shape = 'brief' | 'detailed' | 'comprehensive' | 'action_items';

export const POINTS: Readonly<Record<Shape, number>> = {
  brief: 3,
  detailed: 8,
  comprehensive: 15,
  action_items: 15,
};

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
