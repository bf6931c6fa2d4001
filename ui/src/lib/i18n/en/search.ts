/** The strings of `src/search/`. */
export const search = {
  link: {
    name: 'Search',
    title: 'Find a message by its words (Ctrl+F)',
  },
  view: {
    heading: 'Search',
    label: 'Words to look for',
    placeholder: 'Words to look for, in every message…',
    close: 'Close search',
    closeTitle: 'Back to the conversation (Esc)',
    where: 'Where to look',
    everywhere: 'Everywhere',
    here: 'With {{place}}',
    before: 'Up to',
    goToDay: 'Go to this day',
    chooseDay: 'Choose a day first.',
    nothingByThen: 'Nothing was written with {{place}} by that day.',
    start: 'Type a few words: every message holding all of them shows here, the best matches first. Accents and capitals do not matter.',
    none: 'No message holds every word of “{{query}}”.',
    found_one: '1 message',
    found_other: '{{count}} messages',
    many: 'The 50 best matches — add a word, or choose a day, to find older ones',
    searching: 'Searching…',
  },
};
