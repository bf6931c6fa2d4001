/** The strings of `src/chat/emoji/` (the emoji's own names are emojibase's data, not here). */
export const emoji = {
  panel: {
    search: 'Search emoji',
    groups: 'Emoji groups',
    results: 'Results',
    recent: 'Recently used',
    failed: 'The emoji could not be loaded.',
    none: 'No emoji found.',
    loading: 'Loading emoji…',
  },
  groups: {
    smileys: 'Smileys & emotion',
    people: 'People & body',
    animals: 'Animals & nature',
    food: 'Food & drink',
    travel: 'Travel & places',
    activities: 'Activities',
    objects: 'Objects',
    symbols: 'Symbols',
    flags: 'Flags',
  },
};
