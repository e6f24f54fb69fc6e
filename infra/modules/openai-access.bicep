// The function app's identity on an existing Azure OpenAI account: Cognitive Services OpenAI Contributor (upload files,
// create and cancel fine-tuning jobs, call models with Entra ID) and Cognitive Services Contributor (create and delete
// model deployments through ARM, which promotion and evaluation do).

@description('The Azure OpenAI account.')
param accountName string

@description('The principal (the function app\'s system-assigned identity).')
param principalId string

var roles = [
  'a001fd3d-188f-4b5d-821b-7da978bf7442' // Cognitive Services OpenAI Contributor
  '25fbc0a9-bd7c-42a3-aa1a-3b75d497ee68' // Cognitive Services Contributor
]

resource account 'Microsoft.CognitiveServices/accounts@2024-10-01' existing = {
  name: accountName
}

resource grants 'Microsoft.Authorization/roleAssignments@2022-04-01' = [for role in roles: {
  name: guid(account.id, principalId, role)
  scope: account
  properties: {
    principalId: principalId
    principalType: 'ServicePrincipal'
    roleDefinitionId: subscriptionResourceId('Microsoft.Authorization/roleDefinitions', role)
  }
}]
