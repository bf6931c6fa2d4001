/** The strings of `src/spaces/`. */
export const spaces = {
  channelList: {
    label: 'Conversations in {{space}}',
    direct: 'Direct',
    invite: 'Invite your partner',
    channels: 'Channels',
    create: 'Create a channel',
    newName: 'New channel name',
    empty: 'No channels yet. Make one for plans, photos or recipes.',
    archivedCount: 'Archived ({{n}})',
    archived: 'Archived',
    rename: 'New name for #{{name}}',
  },
  nameForm: {
    needName: 'A channel needs a name.',
    placeholder: 'channel name',
  },
  item: {
    unread_one: '{{name}}, {{count}} unread',
    unread_other: '{{name}}, {{count}} unread',
    muted: '{{name}}, muted',
    unreadMuted_one: '{{name}}, {{count}} unread, muted',
    unreadMuted_other: '{{name}}, {{count}} unread, muted',
    mutedTitle: 'Muted',
    rename: 'Rename {{name}}',
    renameTitle: 'Rename (F2)',
  },
  rail: {
    label: 'Spaces',
  },
};
